"""No full ID or mobile number anywhere a user, an operator or a log reader can see one.

One journey through the whole system with personal numbers put wherever users put them: a union
registered with its contact's mobile and bank account, members added by page and API, roster files
named after people and holding bad cells (an ID number as a group, a phone number as a header),
application attachments, expenditure vouchers and evaluation evidence named after people (plainly,
glued to letters, percent-encoded), a survey file with an ID number where a credit code belongs.
Then every page, API response, download header, the audit page and its CSV, the admin, a PDF report
and every log line (as the console handler writes it, and gunicorn's access line of an encoded query)
are scanned for a checksum-valid ID number or a mobile number, and for the very numbers used.
"""

import csv
import datetime as dt
import io
import logging
import random
import re
import shutil
import subprocess
import types
from urllib.parse import quote, unquote, unquote_plus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from evaluation import reports
from evaluation import services as evaluation_services
from evaluation.models import SelfAssessment
from grants import services as grants_services
from grants.models import Allocation
from members import fakes
from members.models import Union, User
from tests.factories import PDF, PNG, add_members, disburse, make_application, make_program, staff
from unionfunds.core.identifiers import validate_id_number
from unionfunds.core.logging import MaskPersonalDataFilter

PHONE = "13912345678"  # the union's contact
BANK = "6222021234567890123"
people = [fakes.id_number(random.Random(f"journey-{n}")) for n in range(8)]
ID_IN_NAME, ID_IN_CELL, ID_ENCODED = people[5], people[6], people[7]
PHONE_IN_NAME = "13698765432"
USED = {PHONE, PHONE_IN_NAME, *people}

# What a scan must not find; long tokens (CSRF, SHA-256, session keys) are not where people type numbers.
LONG_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{32,}(?![0-9A-Za-z])")
ID_RUN = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
PHONE_RUN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def leaks(text: str) -> set[str]:
    found = set()
    for form in {text, unquote(text), unquote_plus(text)}:
        form = LONG_TOKEN.sub(" ", form)
        for candidate in ID_RUN.findall(form):
            try:
                found.add(validate_id_number(candidate, today=dt.date(2100, 1, 1)))
            except Exception:  # noqa: S112 - not a valid ID number, not personal data
                continue
        found.update(PHONE_RUN.findall(form))
        found.update(n for n in USED if n in form or n.lower() in form)
    return found


class Seen:
    def __init__(self):
        self.texts: list[tuple[str, str]] = []

    def add(self, label: str, response_or_text) -> None:
        if isinstance(response_or_text, str):
            self.texts.append((label, response_or_text))
            return
        response = response_or_text
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if not response.get("Content-Type", "").startswith(("application/pdf", "image/")):
            self.texts.append((label, body.decode("utf-8-sig", errors="replace")))
        self.texts.append((f"{label} headers", " ".join(f"{k}: {v}" for k, v in response.items())))

    def leaks(self) -> dict[str, set[str]]:
        return {label: found for label, text in self.texts if (found := leaks(text))}


class Lines(logging.Handler):
    """Every log record, formatted as the console handler writes it: through the masking filter."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.addFilter(MaskPersonalDataFilter())
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    lines = Lines()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = {logger: logger.level for logger in loggers}
    private = [logger for logger in loggers if logger is not root and not logger.propagate]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(lines)
    for logger in private:
        logger.addHandler(lines)
    debug_cursor, connection.force_debug_cursor = connection.force_debug_cursor, True
    try:
        yield lines.lines
    finally:
        connection.force_debug_cursor = debug_cursor
        root.removeHandler(lines)
        for logger in private:
            logger.removeHandler(lines)
        for logger, level in levels.items():
            logger.setLevel(level)


def roster(rows: list[list[str]], name: str, header=("姓名", "身份证号", "手机号", "群体", "入会日期")):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def person(n: int) -> list[str]:
    return [f"骑手{n}", people[n], f"1380013800{n}", "外卖配送员", "2024-03-01"]


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_no_full_id_or_phone_number_reaches_a_page_a_response_an_export_a_report_or_a_log(
    client, api, cast, log_lines, _media
):
    seen = Seen()
    xihu = cast.xihu
    client.force_login(xihu)
    staff_api = api.as_user(xihu)

    # ------------------------------------------------ a union with a contact phone and a bank account
    code = fakes.credit_code(random.Random("journey"), "330106")
    registered = client.post(
        "/unions/new/",
        {
            "name": "西湖区网约配送员联合工会",
            "credit_code": code,
            "org_form": "joint_union",
            "county": "330106",
            "parent_level": "township",
            "covered_groups": ["food_delivery"],
            "chair_name": "王强",
            "chair_elected_on": "2024-01-10",
            "chair_term_years": "5",
            "committee_size": "7",
            "founded_on": "2023-12-01",
            "bank_name": "工商银行西湖支行",
            "bank_account": BANK,
            "contact_name": "李娜",
            "contact_phone": PHONE,
        },
    )
    assert registered.status_code == 302, registered.content.decode()[:2000]
    union = Union.objects.get(credit_code=code)
    client.post(f"/unions/{union.pk}/verify/", {"comment": "核实无误"})
    edit = client.get(f"/unions/{union.pk}/edit/")
    seen.add("union edit page", edit)
    assert BANK not in edit.content.decode() and "139****5678" in edit.content.decode()
    # Saving the page as it came (account and phone blank) keeps them; the audit records no change to them.
    form = {
        "name": "西湖区网约配送员联合工会",
        "credit_code": code,
        "org_form": "joint_union",
        "county": "330106",
        "parent_level": "township",
        "covered_groups": ["food_delivery"],
        "chair_name": "王强",
        "chair_elected_on": "2024-01-10",
        "chair_term_years": "5",
        "committee_size": "8",
        "founded_on": "2023-12-01",
        "bank_name": "工商银行西湖支行",
        "bank_account": "",
        "contact_name": "李娜",
        "contact_phone": "",
    }
    assert client.post(f"/unions/{union.pk}/edit/", form).status_code == 302
    union.refresh_from_db()
    assert (union.bank_account, union.contact_phone, union.committee_size) == (BANK, PHONE, 8)

    # ------------------------------------------------ members by page and API, refusals that echo
    assert client.post(f"/unions/{union.pk}/members/new/", api_member(0)).status_code == 302
    assert staff_api.post(f"/api/v1/unions/{union.pk}/members/", api_member(1), format="json").status_code == 201
    for group in (ID_IN_CELL, PHONE_IN_NAME):
        refused = staff_api.post(
            f"/api/v1/unions/{union.pk}/members/", {**api_member(2), "group": group}, format="json"
        )
        assert refused.status_code == 400
        seen.add(f"API member refused (group {group[:3]}…)", refused)
    # (A refused member form shows back what its user typed, as every refused form does: not scanned.)

    # ------------------------------------------------ roster files named after people, bad cells
    named = f"名单{ID_IN_NAME}-{PHONE_IN_NAME}.csv"
    bad_header = roster([person(3)], named, header=("姓名", "身份证号", PHONE_IN_NAME, "群体", "入会日期"))
    seen.add("roster page, bad header", client.post(f"/unions/{union.pk}/members/import/", {"file": bad_header}))
    bad_cells = roster([person(3), [*person(4)[:3], ID_IN_CELL, "2024-03-01"]], named)
    seen.add("roster page, bad cells", client.post(f"/unions/{union.pk}/members/import/", {"file": bad_cells}))
    bad_cells = roster([person(3), [*person(4)[:3], PHONE_IN_NAME, "2024-03-01"]], f"a{ID_IN_NAME}x.csv")
    refused = staff_api.post(f"/api/v1/unions/{union.pk}/members/import/", {"file": bad_cells}, format="multipart")
    assert refused.status_code == 400
    seen.add("roster API, bad cells", refused)
    done = client.post(f"/unions/{union.pk}/members/import/", {"file": roster([person(3)], named)})
    assert done.status_code == 302
    done = staff_api.post(
        f"/api/v1/unions/{union.pk}/members/import/",
        {"file": roster([person(4)], quote(f"张三{ID_ENCODED}.csv"))},
        format="multipart",
    )
    assert done.json()["created"] == 1
    seen.add("union page", client.get(f"/unions/{union.pk}/"))
    seen.add("API union", staff_api.get(f"/api/v1/unions/{union.pk}/"))
    seen.add("API members", staff_api.get(f"/api/v1/unions/{union.pk}/members/"))

    # ------------------------------------------------ an application with attachments, money with vouchers
    program = make_program()
    funded = cast.union_xihu
    add_members(funded, 150)
    application = make_application(program, funded)
    for name in (f"{ID_IN_NAME}身份证.pdf", f"承诺书{PHONE_IN_NAME}.png", quote(f"李四{ID_ENCODED}.pdf")):
        content = PDF if name.endswith("pdf") else PNG
        client.post(
            f"/applications/{application.pk}/attachments/",
            {"kind": "other", "file": SimpleUploadedFile(name, content)},
            follow=False,
        )
    assert application.attachments.count() == 3
    seen.add("application page (with the upload message)", client.get(f"/applications/{application.pk}/"))
    for action, by in (("submit", xihu), ("recommend", xihu), ("review", cast.hangzhou)):
        application = grants_services.application_transition(application=application, action=action, by=by)
    grants_services.application_transition(
        application=application, action="approve", by=staff("330000"), approved_amount="60000.00"
    )
    allocation = Allocation.objects.get(application=application)
    disburse(allocation, "30000.00")
    client.force_login(cast.officer)
    expenditure = {
        "spent_on": dt.date.today().isoformat(),
        "category": "activities",
        "amount": "1000.00",
        "description": "夏季送清凉",
        "voucher_no": "ZC-1",
        "beneficiaries": "30",
    }
    client.post(
        f"/allocations/{allocation.pk}/expenditures/",
        {**expenditure, "voucher_file": SimpleUploadedFile(f"发票{PHONE_IN_NAME}.pdf", PDF)},
    )
    by_api = api.as_user(cast.officer).post(
        f"/api/v1/allocations/{allocation.pk}/expenditures/",
        {**expenditure, "voucher_no": "ZC-2", "voucher_file": SimpleUploadedFile(f"x{ID_IN_NAME}.pdf", PDF)},
        format="multipart",
    )
    assert by_api.status_code == 201, by_api.content
    seen.add("API expenditure", by_api)
    detail = client.get(f"/allocations/{allocation.pk}/")
    seen.add("allocation page", detail)
    for expenditure_row in allocation.expenditures.all():
        seen.add(
            "voucher download", client.get(f"/allocations/{allocation.pk}/expenditures/{expenditure_row.pk}/voucher/")
        )
    client.force_login(xihu)
    for attachment in application.attachments.all():
        seen.add("attachment download", client.get(f"/applications/{application.pk}/attachments/{attachment.pk}/"))
    seen.add("API allocations", staff_api.get("/api/v1/allocations/"))

    # ------------------------------------------------ evaluation: evidence, a survey file, a report
    round_ = evaluation_services.round_create(program=program, by=cast.province)
    assessment = SelfAssessment.objects.get(round=round_, county_id="330106")
    evidence = client.post(
        f"/evaluation/assessments/{assessment.pk}/evidence/",
        {"file": SimpleUploadedFile(f"佐证{ID_IN_NAME}-{PHONE_IN_NAME}.pdf", PDF)},
        follow=True,
    )
    seen.add("assessment page (with the upload message)", evidence)
    survey = roster([[ID_IN_CELL, "满意"]], f"问卷{PHONE_IN_NAME}.csv", header=("统一社会信用代码", "满意度"))
    seen.add(
        "survey import refused",
        client.post(f"/evaluation/rounds/{round_.pk}/surveys/import/", {"file": survey}, follow=True),
    )
    job, _created = evaluation_services.report_request(kind="county", round_=round_, region="330106", by=xihu)
    reports.generate(job.pk)
    job.refresh_from_db()
    pdf = job.version.file.path
    seen.add(
        "county report PDF",
        subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True, check=True).stdout.decode(),
    )

    # ------------------------------------------------ the audit trail, its export, the admin
    client.force_login(cast.auditor)
    seen.add("audit page", client.get("/audit/"))
    seen.add("audit CSV", client.get("/audit/?format=csv"))
    operator = User.objects.create_superuser("ops", password="Ops-pass-2026!")
    client.force_login(operator)
    seen.add("admin audit list", client.get("/admin/core/auditevent/"))
    from unionfunds.core.models import AuditEvent

    for event in AuditEvent.objects.all():
        seen.add(f"admin audit {event.action}", client.get(f"/admin/core/auditevent/{event.pk}/change/"))
    seen.add("admin union", client.get(f"/admin/members/union/{union.pk}/change/"))
    seen.add("admin members", client.get("/admin/members/member/"))

    # ------------------------------------------------ logs: a request for a path glued to a number
    client.get(f"/unions/{union.pk}/a{ID_IN_NAME}/")
    logging.getLogger("django.request").warning("GET /unions/?q=%s", quote(f"张三{ID_ENCODED}"))
    seen.add("gunicorn access log", gunicorn_access_line(f"/unions/?q={quote(f'张三{ID_ENCODED}')}+{PHONE_IN_NAME}"))
    for line in log_lines:
        seen.add("log", line)

    assert len(seen.texts) > 40
    assert seen.leaks() == {}


MEMBER_FIELDS = ("name", "id_number", "phone", "group", "joined_on")


def api_member(n: int) -> dict:
    return {**dict(zip(MEMBER_FIELDS, person(n), strict=True)), "group": "food_delivery"}


def gunicorn_access_line(uri: str) -> str:
    from gunicorn.config import Config

    from unionfunds.core.gunicorn_logging import MaskedLogger

    config = Config()
    config.set("accesslog", "-")
    logger = MaskedLogger(config)
    out = io.StringIO()
    logger.access_log.handlers[0].setStream(out)
    path, _sep, query = uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
    }
    response = types.SimpleNamespace(status="200 OK", headers=[], sent=0)
    logger.access(response, types.SimpleNamespace(headers=[]), environ, dt.timedelta(milliseconds=5))
    return out.getvalue()
