"""No full ID number in any log line (docs/rules.md §2).

A realistic flow — roster imports with errors (API and page), members added (API and page), refused
requests with an ID number in the body, a search for a whole number — runs with every logger at DEBUG,
SQL logging on (django.db.backends) and django.request's warnings; every record is formatted as a
handler would write it (message, traceback, stack) and scanned for any checksum-valid ID number.
"""

import csv
import datetime as dt
import io
import logging
import os
import random
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from members import fakes
from members.models import Member
from unionfunds.core.identifiers import validate_id_number

ID_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def valid_id_numbers(text: str) -> set[str]:
    found = set()
    for candidate in ID_CANDIDATE.findall(text):
        try:
            validate_id_number(candidate)
        except Exception:  # noqa: S112 - not a checksum-valid ID number: not personal data
            continue
        found.add(candidate.upper())
    return found


class Keep(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_line():
    """Every logger at DEBUG into one handler on the root (and on loggers that do not propagate)."""
    keep = Keep()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = {logger: logger.level for logger in loggers}
    private = [logger for logger in loggers if logger is not root and not logger.propagate]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    # First, before the console handler, whose masking filter rewrites the records it passes: what is
    # scanned is what the code logged, before any masking, so a leak is found even if a handler without
    # the filter is added one day.
    root.handlers.insert(0, keep)
    for logger in private:
        logger.addHandler(keep)
    debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True  # django.db.backends logs every query with its parameters
    try:
        yield keep.lines
    finally:
        connection.force_debug_cursor = debug_cursor
        root.removeHandler(keep)
        for logger in private:
            logger.removeHandler(keep)
        for logger, level in levels.items():
            logger.setLevel(level)


def person(seed: str) -> dict:
    number = fakes.id_number(random.Random(seed))
    return {
        "name": f"骑手{seed}",
        "id_number": number,
        "gender": "M" if int(number[16]) % 2 else "F",
        "phone": "13800138000",
        "group": "food_delivery",
        "platform": "美团",
        "joined_on": "2024-03-01",
    }


def roster_file(rows: list[dict], name: str = "roster.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "id_number", "gender", "phone", "group", "platform", "joined_on"])
    for row in rows:
        writer.writerow([row[k] for k in ("name", "id_number", "gender", "phone", "group")] + ["美团", "2024-03-01"])
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def test_no_full_id_number_in_any_log_line(api, client, cast, every_log_line):
    union, other = cast.union_xihu, cast.union_xihu_other
    people = [person(f"log-{n}") for n in range(6)]
    numbers = {p["id_number"] for p in people}
    staff = api.as_user(cast.xihu)

    # Roster imports that fail on one row (a bad phone, an unknown group): nothing written, errors listed.
    bad = [*people[:3], {**people[3], "phone": "12345"}, {**people[4], "group": "astronaut"}]
    refused = staff.post(f"/api/v1/unions/{union.pk}/members/import/", {"file": roster_file(bad)}, format="multipart")
    assert refused.status_code == 400 and refused.json()["errors"]
    client.force_login(cast.xihu)
    page = client.post(f"/unions/{union.pk}/members/import/", {"file": roster_file(bad)})
    assert page.status_code == 200 and not Member.objects.exists()

    # A good import and members added by hand, through the API and the page.
    assert (
        staff.post(
            f"/api/v1/unions/{union.pk}/members/import/", {"file": roster_file(people[:3])}, format="multipart"
        ).json()["created"]
        == 3
    )
    assert staff.post(f"/api/v1/unions/{union.pk}/members/", people[3], format="json").status_code == 201
    form = {**people[4], "gender": ""}
    assert client.post(f"/unions/{union.pk}/members/new/", form).status_code == 302

    # Refused requests that carry an ID number: a second active membership, bad fields,
    # a malformed body, and the same person through the page.
    second = staff.post(f"/api/v1/unions/{other.pk}/members/", people[0], format="json")
    assert second.status_code == 400 and "在册会员" in second.json()["id_number"][0]
    bad_gender = {**people[5], "gender": "X", "phone": "1"}
    assert staff.post(f"/api/v1/unions/{union.pk}/members/", bad_gender, format="json").status_code == 400
    raw = f'{{"name": "骑手", "id_number": "{people[5]["id_number"]}", '
    assert staff.post(f"/api/v1/unions/{union.pk}/members/", raw, content_type="application/json").status_code == 400
    assert client.post(f"/unions/{other.pk}/members/new/", {**people[1], "gender": ""}).status_code == 200
    # Someone pastes a whole ID number into the roster search box.
    assert client.get(f"/unions/{union.pk}/", {"q": people[2]["id_number"]}).status_code == 302

    assert Member.objects.count() == 5
    text = "\n".join(every_log_line)
    assert "SELECT" in text and "django.request" in text  # the capture saw SQL and request warnings
    assert valid_id_numbers(text) == set(), "full ID numbers in the logs"
    assert not [n for n in numbers if n in text or n.lower() in text]


# ---------------------------------------------------------------- logs written outside settings.LOGGING

ID = "330106199003071236"


def test_a_celery_worker_masks_its_log_lines_too():
    """A worker replaces the root logger's handlers with its own (``app.log.setup``, as ``celery worker``
    calls it); unionfunds/celery.py puts the masking filter on them. Run in a fresh process, as a worker."""
    code = (
        "import django; django.setup()\n"
        "from unionfunds.celery import app\n"
        "app.log.setup(loglevel='INFO')\n"
        "import logging\n"
        "from celery.utils.log import get_task_logger\n"
        f"logging.getLogger('evaluation.tasks').warning('member {ID} phone 13812345678')\n"
        f"get_task_logger('evaluation.tasks').warning('task sees {ID}')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "unionfunds.settings", "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "member 330106********1236 phone 138****5678" in output
    assert "task sees 330106********1236" in output
    assert ID not in output and "13812345678" not in output


def test_gunicorn_access_and_error_logs_mask_numbers():
    from gunicorn.config import Config

    from unionfunds.core.gunicorn_logging import MaskedLogger

    config = Config()
    config.set("accesslog", "-")
    config.set("errorlog", "-")
    assert config.logger_class is not MaskedLogger  # the default; gunicorn.conf.py sets ours
    logger = MaskedLogger(config)
    out = io.StringIO()
    for log in (logger.access_log, logger.error_log):
        log.handlers[0].setStream(out)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/unions/5/?q={ID}",
        "PATH_INFO": "/unions/5/",
        "QUERY_STRING": f"q={ID}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
    }
    response = types.SimpleNamespace(status="302 Found", headers=[], sent=0)
    logger.access(response, types.SimpleNamespace(headers=[]), environ, dt.timedelta(milliseconds=12))
    logger.error("worker failed on %s", ID)
    text = out.getvalue()
    assert "GET /unions/5/?q=330106********1236 HTTP/1.1" in text
    assert "worker failed on 330106********1236" in text
    assert ID not in text


def test_gunicorn_started_in_the_project_uses_the_masked_logger():
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    env = {**os.environ, "DEBUG": "1"}
    result = subprocess.run(
        [gunicorn, "--print-config", "unionfunds.wsgi:application"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert re.search(r"^logger_class\s+= unionfunds.core.gunicorn_logging.MaskedLogger$", result.stdout, re.M), (
        result.stdout + result.stderr
    )
