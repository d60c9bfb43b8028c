"""Every page of members/urls.py for every role of the cast, in and out of scope (Django test client).

Out-of-scope objects answer 404; a role without the right is sent back with a message and nothing
changes (no row, no audit event); lists never show what is out of scope; personal numbers appear
only masked.
"""

import csv
import io
import random
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from members import fakes
from members.choices import OrgForm, UnionStatus, WorkerGroup
from members.models import Member, Union
from members.roster import COLUMNS
from members.views import IMPORT_ERRORS_SHOWN
from tests.factories import MemberFactory, UnionFactory, leave
from unionfunds.core.identifiers import mask_id_number, mask_phone
from unionfunds.core.models import AuditEvent

ROLES = ["province", "auditor", "hangzhou", "xihu", "yuhang", "ningbo", "yinzhou", "officer", "city_auditor"]
UNIONS = ["union_xihu", "union_xihu_other", "union_yuhang", "union_yinzhou"]
# Who sees which union of the cast (docs/rules.md §1): the province all, a city its counties, a county its own.
VISIBLE = {
    "union_xihu": {"province", "auditor", "hangzhou", "xihu", "officer", "city_auditor"},
    "union_xihu_other": {"province", "auditor", "hangzhou", "xihu", "city_auditor"},
    "union_yuhang": {"province", "auditor", "hangzhou", "yuhang", "city_auditor"},
    "union_yinzhou": {"province", "auditor", "ningbo", "yinzhou"},
}
COUNTY_STAFF = {"xihu", "yuhang", "yinzhou"}
# Who may edit a union and keep its roster, once it is in their scope.
KEEPERS = COUNTY_STAFF | {"officer"}
SCOPE_CASES = [(role, union) for role in ROLES for union in UNIONS]

# WhiteNoise warns when collectstatic has not run; these tests do not need static files.
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast has nine accounts; hashing their passwords properly would dominate these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def as_role(client, cast, role):
    client.force_login(cast.users()[role])
    return client


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def roster_csv(rows, header=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or list(COLUMNS.values()))
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def person_rows(n: int, seed: int = 3) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        number = fakes.id_number(rng)
        rows.append([fakes.person_name(rng), number, "", fakes.phone(rng), "快递员", "顺丰速运", "2024-02-01"])
    return rows


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def valid_union_post(county="330106", **extra) -> dict:
    data = {
        "name": "转塘街道新就业形态工会联合会",
        "credit_code": fakes.credit_code(random.Random(5), county),
        "org_form": OrgForm.REGIONAL_FEDERATION,
        "county": county,
        "parent_level": "township",
        "covered_groups": ["courier", "food_delivery"],
        "chair_name": "周敏",
        "chair_elected_on": "2024-06-01",
        "chair_term_years": "5",
        "committee_size": "5",
        "founded_on": "2024-05-01",
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------- home and language


@pytest.mark.parametrize("role", ROLES)
def test_home_renders_for_every_role(client, cast, role):
    user = cast.users()[role]
    response = as_role(client, cast, role).get(reverse("home"))
    assert response.status_code == 200
    page = html(response)
    assert user.home_label in page
    assert ('href="/unions/new/"' in page) == (role in COUNTY_STAFF)


def test_home_counts_only_the_scope(client, cast):
    MemberFactory.create_batch(3, union=cast.union_xihu)
    MemberFactory.create_batch(2, union=cast.union_yinzhou)
    response = as_role(client, cast, "xihu").get(reverse("home"))
    assert response.context["union_total"] == 2
    assert response.context["member_total"] == 3
    response = as_role(client, cast, "ningbo").get(reverse("home"))
    assert response.context["union_total"] == 1
    assert response.context["member_total"] == 2


def test_home_breakdown_by_city_and_county(client, cast):
    MemberFactory.create_batch(3, union=cast.union_xihu)
    MemberFactory.create_batch(2, union=cast.union_yinzhou)
    Union.objects.filter(pk=cast.union_yuhang.pk).update(status=UnionStatus.PENDING)

    rows = as_role(client, cast, "province").get(reverse("home")).context["breakdown"]["rows"]
    assert len(rows) == 11
    by_code = {r["region"].code: r for r in rows}
    assert (by_code["330100"]["total"], by_code["330100"]["pending"], by_code["330100"]["members"]) == (3, 1, 3)
    assert (by_code["330200"]["total"], by_code["330200"]["members"]) == (1, 2)
    assert by_code["330300"]["total"] == 0

    response = as_role(client, cast, "hangzhou").get(reverse("home"))
    rows = response.context["breakdown"]["rows"]
    assert {r["region"].parent_id for r in rows} == {"330100"}
    by_code = {r["region"].code: r for r in rows}
    assert (by_code["330106"]["total"], by_code["330106"]["members"]) == (2, 3)
    assert by_code["330110"]["pending"] == 1
    assert "鄞州区" not in html(response)

    for role in ("xihu", "officer"):
        assert as_role(client, cast, role).get(reverse("home")).context["breakdown"] is None


def test_anonymous_is_sent_to_login(client, cast):
    for url in (reverse("home"), reverse("union-list"), reverse("union-detail", args=[cast.union_xihu.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_language_switch_to_english_and_back(client, cast):
    as_role(client, cast, "xihu")
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("union-list")})
    assert response.status_code == 302
    assert response["Location"] == reverse("union-list")
    assert client.cookies["django_language"].value == "en"
    response = client.get(reverse("union-list"))
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in html(response)
    assert '<option value="en" selected>' in html(response)

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": reverse("home")})
    assert client.cookies["django_language"].value == "zh-hans"
    response = client.get(reverse("home"))
    assert '<html lang="zh-hans">' in html(response)


def test_english_pages_are_translated(client, cast):
    as_role(client, cast, "xihu")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    nav = html(client.get(reverse("home"))).split("<main>")[0]
    assert "首页" not in nav
    assert "基层工会" not in nav


def test_language_switch_ignores_foreign_next(client, cast):
    as_role(client, cast, "xihu")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


# ---------------------------------------------------------------- union list


@pytest.mark.parametrize("role", ROLES)
def test_union_list_shows_exactly_the_scope(client, cast, role):
    response = as_role(client, cast, role).get(reverse("union-list"))
    assert response.status_code == 200
    shown = {u.pk for u in response.context["page"]}
    expected = {getattr(cast, name).pk for name in UNIONS if role in VISIBLE[name]}
    assert shown == expected
    page = html(response)
    for name in UNIONS:
        assert (getattr(cast, name).name in page) == (role in VISIBLE[name])


def _listed(client, **params) -> set[str]:
    response = client.get(reverse("union-list"), params)
    assert response.status_code == 200
    return {u.name for u in response.context["page"]}


def test_union_list_filters(client, cast):
    Union.objects.filter(pk=cast.union_xihu_other.pk).update(
        status=UnionStatus.PENDING,
        org_form=OrgForm.INDUSTRY_FEDERATION,
        covered_groups=Union.encode_groups([WorkerGroup.TRUCK_DRIVER]),
    )
    MemberFactory.create_batch(3, union=cast.union_yuhang)
    MemberFactory.create_batch(1, union=cast.union_xihu)
    c = as_role(client, cast, "province")
    x, xo, y, n = (getattr(cast, name).name for name in UNIONS)

    assert _listed(c, county="330106") == {x, xo}
    assert _listed(c, city="330200") == {n}
    assert _listed(c, city="330100") == {x, xo, y}
    assert _listed(c, status="pending") == {xo}
    assert _listed(c, status="verified") == {x, y, n}
    assert _listed(c, org_form="industry_federation") == {xo}
    assert _listed(c, group="truck_driver") == {xo}
    assert _listed(c, group="food_delivery") == {x, y, n}
    assert _listed(c, min_members="2") == {y}
    assert _listed(c, min_members="1", max_members="1") == {x}
    assert _listed(c, max_members="0") == {xo, n}
    assert _listed(c, q="余杭") == {y}
    assert _listed(c, q=cast.union_yinzhou.credit_code.lower()) == {n}
    assert _listed(c, county="330106", status="pending") == {xo}


def test_union_list_filters_never_reach_out_of_scope(client, cast):
    c = as_role(client, cast, "xihu")
    assert _listed(c, county="330212") == set()
    assert _listed(c, city="330200") == set()
    assert _listed(c, q=cast.union_yinzhou.credit_code) == set()
    assert _listed(c, q="鄞州") == set()
    c = as_role(client, cast, "hangzhou")
    assert _listed(c, city="330200") == set()
    assert _listed(c, county="330212") == set()
    c = as_role(client, cast, "officer")
    assert _listed(c, county="330106") == {cast.union_xihu.name}
    assert _listed(c, q="西湖区快递") == set()


def test_union_list_filter_choices_follow_the_scope(client, cast):
    response = as_role(client, cast, "province").get(reverse("union-list"))
    assert len(response.context["counties"]) == 90
    assert len(response.context["cities"]) == 11
    response = as_role(client, cast, "hangzhou").get(reverse("union-list"))
    assert {c.parent_id for c in response.context["counties"]} == {"330100"}
    assert response.context["cities"] == []
    assert "宁波市" not in html(response)
    # A county clerk has nothing to choose between.
    response = as_role(client, cast, "xihu").get(reverse("union-list"))
    assert response.context["counties"] == []
    assert 'name="county"' not in html(response)


def test_union_list_bad_filter_says_so(client, cast):
    response = as_role(client, cast, "province").get(reverse("union-list"), {"status": "nonsense"})
    assert response.status_code == 200
    assert "筛选条件有误" in html(response)


def test_union_list_pages(client, cast):
    UnionFactory.create_batch(55, county_id="330106")
    c = as_role(client, cast, "xihu")
    first = c.get(reverse("union-list"), {"status": "verified"})
    assert len(first.context["page"]) == 50
    assert "?status=verified&amp;page=2" in html(first)
    second = c.get(reverse("union-list"), {"status": "verified", "page": 2})
    assert len(second.context["page"]) == 7  # 55 + the cast's two Xihu unions


# ---------------------------------------------------------------- union detail


@pytest.mark.parametrize(("role", "union"), SCOPE_CASES)
def test_union_detail_scope(client, cast, role, union):
    target = getattr(cast, union)
    response = as_role(client, cast, role).get(reverse("union-detail", args=[target.pk]))
    if role in VISIBLE[union]:
        assert response.status_code == 200
        assert target.name in html(response)
    else:
        assert response.status_code == 404
        assert target.name not in html(response)


def test_union_detail_missing_is_404(client, cast):
    response = as_role(client, cast, "province").get(reverse("union-detail", args=[999999]))
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "city_auditor", "xihu", "officer"])
def test_union_detail_offers_only_allowed_actions(client, cast, role):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=UnionStatus.PENDING)
    page = html(as_role(client, cast, role).get(reverse("union-detail", args=[cast.union_xihu.pk])))
    pk = cast.union_xihu.pk
    assert (f"/unions/{pk}/verify/" in page) == (role == "xihu")
    assert (f"/unions/{pk}/dissolve/" in page) == (role == "xihu")
    assert (f"/unions/{pk}/members/import/" in page) == (role in KEEPERS)
    assert (f"/unions/{pk}/edit/" in page) == (role in KEEPERS)


def test_roster_shows_masked_numbers_only(client, cast):
    rng = random.Random(42)
    numbers = [fakes.id_number(rng) for _ in range(4)]
    phones = [fakes.phone(rng) for _ in range(4)]
    for number, phone in zip(numbers, phones, strict=True):
        MemberFactory(union=cast.union_xihu, id_number=number, phone=phone)
    for role in ("xihu", "officer", "province", "auditor"):
        response = as_role(client, cast, role).get(reverse("union-detail", args=[cast.union_xihu.pk]))
        page = html(response)
        assert response.context["union"].member_count == 4
        for number, phone in zip(numbers, phones, strict=True):
            assert number not in page
            assert number[6:14] not in page, "the birth date part of an ID number leaked"
            assert mask_id_number(number) in page
            assert phone not in page
            assert mask_phone(phone) in page
        assert not re.search(r"\d{17}[\dX]", page), "something that looks like a full ID number is on the page"


def test_roster_active_and_all_tabs(client, cast):
    MemberFactory.create_batch(2, union=cast.union_xihu)
    gone = MemberFactory(union=cast.union_xihu, name="已离会者")
    leave(gone, "2025-01-01")
    c = as_role(client, cast, "xihu")
    active = c.get(reverse("union-detail", args=[cast.union_xihu.pk]))
    assert "已离会者" not in html(active)
    assert active.context["union"].member_count == 2
    everyone = c.get(reverse("union-detail", args=[cast.union_xihu.pk]), {"show": "all"})
    assert "已离会者" in html(everyone)
    assert everyone.context["page"].paginator.count == 3


def test_roster_search(client, cast):
    MemberFactory(union=cast.union_xihu, name="张晓东")
    MemberFactory(union=cast.union_xihu, name="李娜")
    target = MemberFactory(union=cast.union_xihu, name="王强", id_number=fakes.id_number(random.Random(8)))
    MemberFactory(union=cast.union_yinzhou, name="张伟")  # another county's member never shows
    c = as_role(client, cast, "xihu")
    url = reverse("union-detail", args=[cast.union_xihu.pk])

    by_name = c.get(url, {"q": "张"})
    assert [m.name for m in by_name.context["page"]] == ["张晓东"]
    tail = target.id_number_masked.rsplit("*", 1)[-1]
    by_tail = c.get(url, {"q": tail})
    assert "王强" in [m.name for m in by_tail.context["page"]]


def test_roster_search_refuses_full_numbers_and_does_not_echo_them(client, cast):
    number = fakes.id_number(random.Random(9))
    MemberFactory(union=cast.union_xihu, name="王强", id_number=number)
    response = as_role(client, cast, "xihu").get(
        reverse("union-detail", args=[cast.union_xihu.pk]), {"q": number}, follow=True
    )
    assert response.status_code == 200
    assert number not in response.redirect_chain[-1][0]
    assert number not in html(response)
    assert any("不要输入完整号码" in m for m in messages_of(response))


# ---------------------------------------------------------------- register and edit


@pytest.mark.parametrize("role", ROLES)
def test_union_create_page(client, cast, role):
    c = as_role(client, cast, role)
    before = (Union.objects.count(), AuditEvent.objects.count())
    get = c.get(reverse("union-create"))
    post = c.post(reverse("union-create"), valid_union_post(county=cast.users()[role].home_region.code))
    if role in COUNTY_STAFF:
        assert get.status_code == 200
        assert post.status_code == 302
        union = Union.objects.get(name="转塘街道新就业形态工会联合会")
        assert post["Location"] == reverse("union-detail", args=[union.pk])
        assert union.status == UnionStatus.PENDING
        assert union.county_id == cast.users()[role].region_id
    else:
        for response in (get, post):
            assert response.status_code == 302
            assert response["Location"] == reverse("union-list")
        followed = c.get(reverse("union-create"), follow=True)
        assert any("县（市、区）总工会" in m for m in messages_of(followed))
        assert (Union.objects.count(), AuditEvent.objects.count()) == before


def test_union_create_defaults_to_the_clerks_county(client, cast):
    response = as_role(client, cast, "xihu").get(reverse("union-create"))
    form = response.context["form"]
    assert form.fields["county"].choices == [("330106", "杭州市 西湖区")]
    assert form["county"].value() == "330106"


def test_union_create_refuses_another_county(client, cast):
    before = (Union.objects.count(), AuditEvent.objects.count())
    response = as_role(client, cast, "xihu").post(reverse("union-create"), valid_union_post(county="330212"))
    assert response.status_code == 200
    assert response.context["form"].errors["county"]
    assert (Union.objects.count(), AuditEvent.objects.count()) == before


def test_union_create_shows_field_errors(client, cast):
    before = Union.objects.count()
    bad = valid_union_post(credit_code="81330106000000000X", name="")
    response = as_role(client, cast, "xihu").post(reverse("union-create"), bad)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "name" in errors
    assert "credit_code" in errors
    assert Union.objects.count() == before
    page = html(response)
    assert "校验位" in page or "18 位" in page


def test_union_create_refuses_duplicate_credit_code(client, cast):
    before = Union.objects.count()
    response = as_role(client, cast, "xihu").post(
        reverse("union-create"), valid_union_post(credit_code=cast.union_yinzhou.credit_code)
    )
    assert response.status_code == 200
    assert "已被" in " ".join(response.context["form"].errors["credit_code"])
    assert Union.objects.count() == before


@pytest.mark.parametrize(("role", "union"), SCOPE_CASES)
def test_union_edit_page_scope_and_role(client, cast, role, union):
    target = getattr(cast, union)
    response = as_role(client, cast, role).get(reverse("union-edit", args=[target.pk]))
    if role not in VISIBLE[union]:
        assert response.status_code == 404
    elif role in KEEPERS:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("union-detail", args=[target.pk])


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "city_auditor"])
def test_union_edit_post_by_reader_changes_nothing(client, cast, role):
    before = AuditEvent.objects.count()
    response = as_role(client, cast, role).post(
        reverse("union-edit", args=[cast.union_xihu.pk]), valid_union_post(name="改过的名字"), follow=True
    )
    assert response.status_code == 200
    assert messages_of(response)
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.name == "西溪街道新就业形态联合工会"
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", ["yuhang", "yinzhou", "ningbo"])
def test_union_edit_post_out_of_scope_is_404(client, cast, role):
    response = as_role(client, cast, role).post(
        reverse("union-edit", args=[cast.union_xihu.pk]), valid_union_post(name="改过的名字")
    )
    assert response.status_code == 404
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.name == "西溪街道新就业形态联合工会"


def test_union_edit_by_county(client, cast):
    union = cast.union_xihu
    data = valid_union_post(credit_code=union.credit_code, name="西溪街道新就业形态工会联合会")
    response = as_role(client, cast, "xihu").post(reverse("union-edit", args=[union.pk]), data)
    assert response.status_code == 302
    union.refresh_from_db()
    assert union.name == "西溪街道新就业形态工会联合会"


def test_union_edit_by_officer_keeps_locked_fields(client, cast):
    union = cast.union_xihu
    code = union.credit_code
    c = as_role(client, cast, "officer")
    page = c.get(reverse("union-edit", args=[union.pk]))
    assert page.context["form"].fields["credit_code"].disabled
    data = valid_union_post(name="西溪街道新业态工会", county="330110", parent_level="city")
    response = c.post(reverse("union-edit", args=[union.pk]), data)
    assert response.status_code == 302
    union.refresh_from_db()
    assert union.name == "西溪街道新业态工会"
    assert union.credit_code == code
    assert union.county_id == "330106"
    assert union.parent_level == "township"


BANK = "6222021234567890123"


@pytest.mark.parametrize("role", ["xihu", "officer"])
def test_the_edit_page_never_sends_the_stored_account_or_phone_only_their_masks(client, cast, role):
    union = cast.union_xihu
    Union.objects.filter(pk=union.pk).update(bank_account=BANK, contact_phone="13912345678")
    page = html(as_role(client, cast, role).get(reverse("union-edit", args=[union.pk])))
    assert BANK not in page and "13912345678" not in page
    assert "6222***********0123" in page and "139****5678" in page


def test_a_blank_account_or_phone_on_the_edit_page_keeps_the_stored_one_and_a_new_one_replaces_it(client, cast):
    union = cast.union_xihu
    Union.objects.filter(pk=union.pk).update(bank_account=BANK, contact_phone="13912345678")
    c = as_role(client, cast, "xihu")
    data = valid_union_post(credit_code=union.credit_code, name=union.name, bank_account="", contact_phone="")
    assert c.post(reverse("union-edit", args=[union.pk]), {**data, "committee_size": "9"}).status_code == 302
    union.refresh_from_db()
    assert (union.bank_account, union.contact_phone, union.committee_size) == (BANK, "13912345678", 9)
    [event] = AuditEvent.objects.filter(action="union.update")
    assert [event.before[k] for k in ("bank_account", "contact_phone")] == ["6222***********0123", "139****5678"]
    assert [event.after[k] for k in ("bank_account", "contact_phone")] == ["6222***********0123", "139****5678"]
    assert c.post(reverse("union-edit", args=[union.pk]), {**data, "contact_phone": "0571-87654321"}).status_code == 302
    union.refresh_from_db()
    assert (union.bank_account, union.contact_phone) == (BANK, "0571-87654321")


# ---------------------------------------------------------------- status transitions


def test_verify_by_county(client, cast):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=UnionStatus.PENDING)
    response = as_role(client, cast, "xihu").post(
        reverse("union-transition", args=[cast.union_xihu.pk, "verify"]), {"comment": "材料齐全"}, follow=True
    )
    assert response.status_code == 200
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.status == UnionStatus.VERIFIED
    assert cast.union_xihu.verified_at is not None
    assert "已核实" in html(response)
    event = AuditEvent.objects.filter(action="union.verify").get()
    assert event.after["comment"] == "材料齐全"


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "city_auditor", "officer"])
def test_verify_by_other_roles_changes_nothing(client, cast, role):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=UnionStatus.PENDING)
    before = AuditEvent.objects.count()
    response = as_role(client, cast, role).post(
        reverse("union-transition", args=[cast.union_xihu.pk, "verify"]), follow=True
    )
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.redirect_chain[-1][0] == reverse("union-detail", args=[cast.union_xihu.pk])
        assert messages_of(response) == ["只有所在县（市、区）总工会可以核实工会。"]
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.status == UnionStatus.PENDING
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", ["yuhang", "yinzhou", "ningbo"])
def test_transition_out_of_scope_is_404(client, cast, role):
    Union.objects.filter(pk=cast.union_xihu.pk).update(status=UnionStatus.PENDING)
    for action in ("verify", "dissolve"):
        response = as_role(client, cast, role).post(reverse("union-transition", args=[cast.union_xihu.pk, action]))
        assert response.status_code == 404
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.status == UnionStatus.PENDING


def test_illegal_transition_says_why_and_changes_nothing(client, cast):
    before = AuditEvent.objects.count()
    response = as_role(client, cast, "xihu").post(
        reverse("union-transition", args=[cast.union_xihu.pk, "reinstate"]), follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == ["“已核实”的工会不能恢复。"]
    cast.union_xihu.refresh_from_db()
    assert cast.union_xihu.status == UnionStatus.VERIFIED
    assert AuditEvent.objects.count() == before


def test_transition_needs_post(client, cast):
    response = as_role(client, cast, "xihu").get(reverse("union-transition", args=[cast.union_xihu.pk, "verify"]))
    assert response.status_code == 405


def test_suspend_reinstate_dissolve(client, cast):
    c = as_role(client, cast, "xihu")
    pk = cast.union_xihu.pk
    for action, status in (("suspend", "suspended"), ("reinstate", "verified"), ("dissolve", "dissolved")):
        c.post(reverse("union-transition", args=[pk, action]))
        cast.union_xihu.refresh_from_db()
        assert cast.union_xihu.status == status
    # A dissolved union's roster and profile are closed, also to its own county.
    for name in ("roster-import", "member-add", "union-edit"):
        response = c.get(reverse(name, args=[pk]))
        assert response.status_code == 302


# ---------------------------------------------------------------- roster import


@pytest.mark.parametrize(("role", "union"), SCOPE_CASES)
def test_roster_import_page_scope_and_role(client, cast, role, union):
    target = getattr(cast, union)
    response = as_role(client, cast, role).get(reverse("roster-import", args=[target.pk]))
    if role not in VISIBLE[union]:
        assert response.status_code == 404
    elif role in KEEPERS:
        assert response.status_code == 200
        assert "下载" in html(response)
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("union-detail", args=[target.pk])


@pytest.mark.parametrize("role", ["xihu", "officer"])
def test_roster_import_creates_members(client, cast, role):
    rows = person_rows(4)
    c = as_role(client, cast, role)
    url = reverse("roster-import", args=[cast.union_xihu.pk])
    response = c.post(url, {"file": upload("名册.csv", roster_csv(rows))}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("union-detail", args=[cast.union_xihu.pk])
    assert any("新增 4 人" in m for m in messages_of(response))
    assert response.context["union"].member_count == 4
    # The same file again changes nothing.
    again = c.post(url, {"file": upload("名册.csv", roster_csv(rows))}, follow=True)
    assert any("新增 0 人，更新 0 人" in m for m in messages_of(again))
    assert Member.objects.filter(union=cast.union_xihu).count() == 4


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "city_auditor"])
def test_roster_import_by_reader_changes_nothing(client, cast, role):
    before = (Member.objects.count(), AuditEvent.objects.count())
    response = as_role(client, cast, role).post(
        reverse("roster-import", args=[cast.union_xihu.pk]),
        {"file": upload("名册.csv", roster_csv(person_rows(3)))},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response)
    assert (Member.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("role", ["yuhang", "ningbo", "yinzhou"])
def test_roster_import_out_of_scope_is_404(client, cast, role):
    response = as_role(client, cast, role).post(
        reverse("roster-import", args=[cast.union_xihu.pk]), {"file": upload("名册.csv", roster_csv(person_rows(3)))}
    )
    assert response.status_code == 404
    assert Member.objects.count() == 0


def test_roster_import_errors_table(client, cast):
    MemberFactory.create_batch(2, union=cast.union_xihu)
    rows = person_rows(3)
    rows[1][4] = "骑手"
    rows[2][6] = "明天"
    before = AuditEvent.objects.count()
    response = as_role(client, cast, "xihu").post(
        reverse("roster-import", args=[cast.union_xihu.pk]), {"file": upload("坏名册.csv", roster_csv(rows))}
    )
    assert response.status_code == 200
    page = html(response)
    assert 'id="import-errors"' in page
    assert "坏名册.csv" in page
    assert response.context["error_total"] == 2
    assert [(e["row"], e["column"]) for e in response.context["errors_shown"]] == [(3, "群体"), (4, "入会日期")]
    assert "骑手" in page and "明天" in page
    assert Member.objects.filter(union=cast.union_xihu).count() == 2
    assert AuditEvent.objects.count() == before


def test_roster_import_with_thousands_of_errors_shows_the_first_ones_and_the_total(client, cast):
    rows = [[f"会员{i}", "123456789012345678", "", "", "外卖配送员", "", "2024-01-01"] for i in range(1500)]
    rows += [[f"新人{i}", fakes.id_number(random.Random(i)), "", "", "快递员", "", "1/2/2024"] for i in range(30)]
    response = as_role(client, cast, "xihu").post(
        reverse("roster-import", args=[cast.union_xihu.pk]), {"file": upload("big.csv", roster_csv(rows))}
    )
    assert response.status_code == 200
    assert response.context["error_total"] == 1530
    assert len(response.context["errors_shown"]) == IMPORT_ERRORS_SHOWN
    page = html(response)
    assert page.count('<tr><td class="num">') == IMPORT_ERRORS_SHOWN
    assert "1,530" in page
    assert f"前 {IMPORT_ERRORS_SHOWN} 处" in page
    # Totals per column point at the systematic problem.
    assert dict(response.context["errors_by_column"]) == {"身份证号": 1500, "入会日期": 30}
    assert Member.objects.count() == 0


@pytest.mark.parametrize(("other", "named"), [("union_yinzhou", False), ("union_xihu_other", True)])
def test_roster_import_rejects_person_active_elsewhere_naming_only_a_union_in_scope(client, cast, other, named):
    number = fakes.id_number(random.Random(77))
    MemberFactory(union=getattr(cast, other), id_number=number)
    rows = [["钱七", number, "", "", "快递员", "", "2024-01-01"]]
    response = as_role(client, cast, "xihu").post(
        reverse("roster-import", args=[cast.union_xihu.pk]), {"file": upload("r.csv", roster_csv(rows))}
    )
    assert response.status_code == 200
    assert (getattr(cast, other).name in html(response)) == named
    assert ("省内其他工会" in html(response)) != named
    assert number not in html(response)
    assert Member.objects.filter(union=cast.union_xihu).count() == 0


def test_roster_import_without_file(client, cast):
    response = as_role(client, cast, "xihu").post(reverse("roster-import", args=[cast.union_xihu.pk]), {})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]


# ---------------------------------------------------------------- roster template


@pytest.mark.parametrize("role", ROLES)
def test_roster_template_csv(client, cast, role):
    response = as_role(client, cast, role).get(reverse("roster-template"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == list(COLUMNS.values())


@pytest.mark.parametrize("role", ["xihu", "officer", "province"])
def test_roster_template_xlsx(client, cast, role):
    response = as_role(client, cast, role).get(reverse("roster-template"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header = next(sheet.iter_rows(values_only=True))
    assert list(header) == list(COLUMNS.values())


def test_roster_template_round_trips(client, cast):
    """The downloaded template, with its example row, imports as it is."""
    c = as_role(client, cast, "xihu")
    for fmt in ("csv", "xlsx"):
        content = c.get(reverse("roster-template"), {"format": fmt}).content
        response = c.post(
            reverse("roster-import", args=[cast.union_xihu_other.pk]),
            {"file": upload(f"template.{fmt}", content)},
            follow=True,
        )
        assert response.context["union"].member_count == 1, messages_of(response)


def test_roster_template_needs_login(client, cast):
    response = client.get(reverse("roster-template"), {"format": "csv"})
    assert response.status_code == 302


# ---------------------------------------------------------------- single members


@pytest.mark.parametrize(("role", "union"), SCOPE_CASES)
def test_member_add_page_scope_and_role(client, cast, role, union):
    target = getattr(cast, union)
    response = as_role(client, cast, role).get(reverse("member-add", args=[target.pk]))
    if role not in VISIBLE[union]:
        assert response.status_code == 404
    elif role in KEEPERS:
        assert response.status_code == 200
    else:
        assert response.status_code == 302


def member_post(number: str, **extra) -> dict:
    data = {
        "name": "孙丽",
        "id_number": number,
        "gender": "",
        "phone": "13912345678",
        "group": "food_delivery",
        "platform": "饿了么",
        "joined_on": "2024-04-01",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("role", ["xihu", "officer"])
def test_member_add(client, cast, role):
    number = fakes.id_number(random.Random(12))
    response = as_role(client, cast, role).post(
        reverse("member-add", args=[cast.union_xihu.pk]), member_post(number), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("union-detail", args=[cast.union_xihu.pk])
    assert response.context["union"].member_count == 1
    page = html(response)
    assert number not in page
    assert mask_id_number(number) in page


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "city_auditor"])
def test_member_add_by_reader_changes_nothing(client, cast, role):
    before = (Member.objects.count(), AuditEvent.objects.count())
    response = as_role(client, cast, role).post(
        reverse("member-add", args=[cast.union_xihu.pk]), member_post(fakes.id_number(random.Random(13)))
    )
    assert response.status_code == 302
    assert (Member.objects.count(), AuditEvent.objects.count()) == before


def test_member_add_bad_id_number(client, cast):
    number = fakes.id_number(random.Random(14))
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = as_role(client, cast, "xihu").post(reverse("member-add", args=[cast.union_xihu.pk]), member_post(bad))
    assert response.status_code == 200
    assert "校验位" in " ".join(response.context["form"].errors["id_number"])
    assert Member.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "other", "named"),
    [("xihu", "union_yinzhou", False), ("officer", "union_xihu_other", False), ("xihu", "union_xihu_other", True)],
)
def test_member_add_active_elsewhere_names_the_other_union_only_in_scope(client, cast, role, other, named):
    number = fakes.id_number(random.Random(15))
    MemberFactory(union=getattr(cast, other), id_number=number)
    response = as_role(client, cast, role).post(reverse("member-add", args=[cast.union_xihu.pk]), member_post(number))
    assert response.status_code == 200
    refusal = " ".join(response.context["form"].errors["id_number"])
    assert (getattr(cast, other).name in refusal) == named
    assert ("省内其他工会" in refusal) != named
    assert Member.objects.filter(union=cast.union_xihu).count() == 0


@pytest.mark.parametrize("role", ["xihu", "officer"])
def test_member_leave(client, cast, role):
    member = MemberFactory(union=cast.union_xihu)
    response = as_role(client, cast, role).post(
        reverse("member-leave", args=[cast.union_xihu.pk, member.pk]), {"left_on": "2025-06-30"}, follow=True
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert str(member.left_on) == "2025-06-30"
    assert response.context["union"].member_count == 0


@pytest.mark.parametrize("role", ["province", "auditor", "hangzhou", "city_auditor"])
def test_member_leave_by_reader_changes_nothing(client, cast, role):
    member = MemberFactory(union=cast.union_xihu)
    before = AuditEvent.objects.count()
    response = as_role(client, cast, role).post(
        reverse("member-leave", args=[cast.union_xihu.pk, member.pk]), {"left_on": "2025-06-30"}, follow=True
    )
    assert response.status_code == 200
    assert messages_of(response)
    member.refresh_from_db()
    assert member.left_on is None
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", ["yuhang", "ningbo", "yinzhou"])
def test_member_leave_out_of_scope_is_404(client, cast, role):
    member = MemberFactory(union=cast.union_xihu)
    response = as_role(client, cast, role).post(
        reverse("member-leave", args=[cast.union_xihu.pk, member.pk]), {"left_on": "2025-06-30"}
    )
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.left_on is None


def test_member_leave_through_another_unions_url_is_404(client, cast):
    member = MemberFactory(union=cast.union_xihu)
    response = as_role(client, cast, "xihu").post(
        reverse("member-leave", args=[cast.union_xihu_other.pk, member.pk]), {"left_on": "2025-06-30"}
    )
    assert response.status_code == 404


def test_member_leave_before_joining_is_refused(client, cast):
    member = MemberFactory(union=cast.union_xihu)
    response = as_role(client, cast, "xihu").post(
        reverse("member-leave", args=[cast.union_xihu.pk, member.pk]), {"left_on": "2020-01-01"}, follow=True
    )
    assert messages_of(response)
    member.refresh_from_db()
    assert member.left_on is None


def test_member_leave_needs_post(client, cast):
    member = MemberFactory(union=cast.union_xihu)
    response = as_role(client, cast, "xihu").get(reverse("member-leave", args=[cast.union_xihu.pk, member.pk]))
    assert response.status_code == 405


# ---------------------------------------------------------------- query counts

# session, user, user's region, the page's own queries (object, count, rows), session save in a
# savepoint. The same at both data sizes: nothing is fetched per row.
PAGE_QUERIES = 9


def _many_unions(n: int) -> None:
    # A third of them pending, so the county's home page lists pending unions too (and measures that list).
    for i, union in enumerate(UnionFactory.create_batch(n, county_id="330106")):
        if i % 3 == 0:
            Union.objects.filter(pk=union.pk).update(status=UnionStatus.PENDING)
        MemberFactory.create_batch(2, union=union)


@pytest.mark.parametrize("extra", [0, 60])
@pytest.mark.parametrize("role", ["province", "xihu", "officer"])
def test_union_list_query_count_does_not_grow(client, cast, django_assert_max_num_queries, extra, role):
    _many_unions(extra)
    c = as_role(client, cast, role)
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = c.get(reverse("union-list"))
    assert response.status_code == 200
    with django_assert_max_num_queries(PAGE_QUERIES):
        c.get(reverse("union-list"), {"status": "verified", "group": "courier", "min_members": "1"})


@pytest.mark.parametrize("extra", [0, 60])
@pytest.mark.parametrize("role", ["province", "hangzhou", "xihu", "officer"])
def test_home_query_count_does_not_grow(client, cast, django_assert_max_num_queries, extra, role):
    _many_unions(extra)
    c = as_role(client, cast, role)
    with django_assert_max_num_queries(PAGE_QUERIES + 2):
        assert c.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("members", [2, 150])
@pytest.mark.parametrize("role", ["province", "xihu", "officer"])
def test_union_detail_query_count_does_not_grow(client, cast, django_assert_max_num_queries, members, role):
    MemberFactory.create_batch(members, union=cast.union_xihu)
    leave(Member.objects.order_by("pk").first(), "2025-01-01")
    c = as_role(client, cast, role)
    detail_queries = PAGE_QUERIES + 1  # the union's accounts, listed for its county and officer
    with django_assert_max_num_queries(detail_queries):
        response = c.get(reverse("union-detail", args=[cast.union_xihu.pk]))
    assert response.status_code == 200
    with django_assert_max_num_queries(detail_queries):
        c.get(reverse("union-detail", args=[cast.union_xihu.pk]), {"show": "all", "page": "2"})
