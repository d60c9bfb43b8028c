"""The English catalogue: complete, compiled, and used by the pages.

Source strings are Simplified Chinese; ``locale/en/LC_MESSAGES/django.po`` holds the English. These
tests read the .po with a few lines of code (no polib), compile it with gettext's ``msgfmt`` to compare
with the committed .mo, and look at pages with the language cookie set to English: their navigation,
headings, labels and buttons must have no Chinese left once the user's own data (union, region and
programme names) is taken out.
"""

import ast
import gettext
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from grants.choices import ApplicationStatus
from grants.models import Program
from members.models import Region, Union
from tests.factories import add_members, make_application, make_program

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"
# CJK ideographs, CJK punctuation (、。「」) and full-width forms (：；（）).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


# ---------------------------------------------------------------- the catalogue


def po_entries(path: Path) -> list[dict]:
    """Entries of a .po file: flags, msgctxt, msgid, msgid_plural and msgstr (a list: one per form)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or all(line.startswith("#~") for line in lines if not line.startswith(("#:", "#,"))):
            continue  # empty, or an obsolete entry kept by msgmerge (flags such as python-format included)
        entry: dict = {"flags": set(), "msgstr": []}
        key = None
        for line in lines:
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if key == "msgstr":
                    entry["msgstr"][-1] += value
                else:
                    entry[key] += value
            else:
                keyword, _, rest = line.partition(" ")
                value = ast.literal_eval(rest)
                if keyword.startswith("msgstr"):
                    key = "msgstr"
                    entry["msgstr"].append(value)
                else:
                    key = keyword
                    entry[key] = value
        entries.append(entry)
    return entries


def test_catalogue_is_complete():
    entries = po_entries(PO)
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"][0]
    assert len(messages) > 500  # the whole UI, not a sample
    untranslated = [e["msgid"] for e in messages if not e["msgstr"] or not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    plural = [e for e in messages if "msgid_plural" in e]
    assert plural and all(len(e["msgstr"]) == 2 for e in plural)


def test_translations_are_english_and_keep_their_placeholders():
    """No Chinese left in a msgstr except where the text quotes what a Chinese file contains, and every
    named placeholder of the msgid is in the msgstr (a missing one would raise at run time or lose data)."""
    quoted_chinese = {"性别「%(value)s」应为 男/女 或 M/F。"}  # the roster file's own values
    for entry in po_entries(PO)[1:]:
        for text in entry["msgstr"]:
            if entry["msgid"] not in quoted_chinese:
                assert not CJK.search(text), (entry["msgid"], text)
            assert set(re.findall(r"%\(\w+\)", entry["msgid"])) <= set(re.findall(r"%\(\w+\)", text)), entry


def test_compiled_catalogue_is_up_to_date(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is needed (make sysdeps installs it)"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO)], check=True, capture_output=True)
    with MO.open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(compiled)._catalog, (
            "locale/en/LC_MESSAGES/django.mo is stale: run manage.py compilemessages --ignore=.venv"
        )


# ---------------------------------------------------------------- the pages in English

CHECKED_TAGS = {"header", "title", "h1", "h2", "h3", "th", "label", "legend", "button", "summary", "option"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class ChromeText(HTMLParser):
    """Text inside the header and the headings, table headers, labels and buttons of a page (the page's
    own words, as opposed to table cells and links that show records), plus the tile captions."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        inside = any(checked for _tag, checked in self.stack)
        classes = (dict(attrs).get("class") or "").split()
        caption = tag == "span" and self.stack and "tile" in self.stack[-1][0].split(".")
        self.stack.append((".".join([tag, *classes]), inside or tag in CHECKED_TAGS or bool(caption)))

    def handle_endtag(self, tag):
        while self.stack:
            name, _checked = self.stack.pop()
            if name.split(".")[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][1] and data.strip():
            self.parts.append(data.strip())


def chrome_text(html: str) -> str:
    parser = ChromeText()
    parser.feed(html)
    return "\n".join(parser.parts)


def user_data() -> list[str]:
    """What users typed or the region table holds: stays as written, in any language. Longest first, so
    a union name goes before the region name it contains."""
    names = {name for (name,) in Union.objects.values_list("name")}
    for region in Region.objects.all():
        names.update({region.name, region.federation_name})
    for program in Program.objects.all():
        names.update({program.name, str(program)})
    names.update(name for _code, name in settings.LANGUAGES)  # a language is offered in its own name
    return sorted(names, key=len, reverse=True)


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def grants_data(cast):
    """Applications in several states and one allocation, so the queue and the allocation list have rows."""
    for union in (cast.union_xihu, cast.union_xihu_other, cast.union_yuhang):
        add_members(union, 150)
    program = make_program(cast.province, name="新业态基层工会专项经费（测试）")
    make_application(program, cast.union_xihu, until=ApplicationStatus.APPROVED, requested="50000.00")
    make_application(program, cast.union_xihu_other, until=ApplicationStatus.REVIEWED)
    make_application(program, cast.union_yuhang, until=ApplicationStatus.SUBMITTED)
    return program


PAGES = ["home", "union-list", "application-queue", "allocation-list"]


@pytest.mark.parametrize("role", ["province", "hangzhou", "xihu", "officer"])
@pytest.mark.parametrize("page", PAGES)
def test_english_pages_have_no_chinese_in_their_own_words(english, cast, grants_data, role, page):
    english.force_login(cast.users()[role])
    response = english.get(reverse(page))
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert '<html lang="en">' in html
    text = chrome_text(html)
    assert "Grassroots unions" in text  # the navigation, in English
    for name in user_data():
        text = text.replace(name, "")
    assert CJK.findall(text) == [], text


def test_english_headings_of_each_page(english, cast, grants_data):
    english.force_login(cast.province)
    expected = {
        "home": ["Grassroots unions by city", "Active members"],
        "union-list": ["Grassroots unions", "Unified social credit code", "Groups covered"],
        "application-queue": ["Grant applications", "Budget execution", "Priority score", "Amount requested (CNY)"],
        "allocation-list": ["Allocations and Spending", "Allocated (CNY)", "Disbursed (CNY)", "Spent (CNY)"],
    }
    for page, words in expected.items():
        html = english.get(reverse(page)).content.decode()
        for word in words:
            assert word in html, (page, word)


def test_chinese_stays_the_default(client, cast, grants_data):
    """Without the cookie (or with the browser asking for English) the pages stay Chinese."""
    client.force_login(cast.xihu)
    response = client.get(reverse("union-list"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert "<h1>基层工会</h1>" in html
    assert "Grassroots unions" not in html
