"""The permission matrix: every endpoint and page, every user of the cast, an object inside and
outside that user's scope, and the answer docs/rules.md §1 and §5 call for.

How it is built
- ``CAST`` says who the users are (a *seat*: a role at a level) and ``POSITIONS`` where the object of a
  case sits for each of them: own county, another county of the same city, another city; for the union
  officer their own union and another union of the same county.
- ``sees`` is the scope rule and ``MAY`` / ``FROM_STATE`` the role rule. Both are written here from docs/rules.md
  (and the README where the rules leave a choice open), not imported from the app, so that a change in
  the app's ``for_user`` or ``permissions.py`` shows up as a failing case. ``expected`` combines them.
- ``ROWS`` is the table: one row per (method, URL pattern) saying which verb of ``MAY`` the request is,
  which object its URL names (built by ``kwargs`` from the objects of the position), the state a
  per-case ``setup`` leaves it in, and the body a permitted user would send.
- ``test_matrix`` runs every case; ``test_every_url_pattern_has_a_row`` walks ``get_resolver()`` and fails
  for a pattern (and method) without a row, and for a row whose pattern has gone.

The answers
- API: anonymous 401; object out of scope 404; role not allowed 403; allowed role, object not in a state
  it can act from 409; a body naming an object outside the scope 400; otherwise 200/201/202.
  A role that may not act and names an out-of-scope object in the body may get 400 or 403: the rules
  order neither (both refuse, change nothing and say nothing about the object).
- Pages: the project never renders a 403 page. Anonymous → 302 to the login page; out of scope → 404;
  a role that may not act (or a state that does not allow it) → 302 back with an error message; a form
  choice outside the scope → the form again (200) or 302 with an error message; an allowed GET → 200,
  an allowed POST → 302 with a success message. Every refused write also leaves the audit trail as it was.
- Lists (API, and the union, allocation and program pages) are checked for what they contain: the
  object of the position is listed exactly when the user sees it.

What is excluded, and why
- HEAD and OPTIONS (Django answers them from GET / the view's metadata).
- DRF's format-suffix twins (``/unions.json``, ``/unions/{pk}.json``): the same view and queryset as the
  pattern without suffix; the coverage test checks that each twin has one.
- Function views are probed with GET and POST only (what browsers send); any other method reaches the
  same code as GET.
- The Django admin's ~70 generated patterns share one decision (no account of the cast is ``is_staff``,
  so every admin URL sends them to the admin login); rows cover the index, the login and the union list.
- ``POST /evaluation/spot-checks/{pk}/`` with ``send_back`` is the same URL and permission as verify.

Speed: the world is built once per module inside a transaction; every case runs in its own savepoint
(the ``db`` fixture), so writes never leak from one case into another.
"""

import dataclasses
import datetime as dt
import hashlib
import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.http import urlencode
from rest_framework.test import APIClient

from evaluation import services as evaluation_services
from evaluation.models import EvaluationRound, ReportJob, ReportVersion, SelfAssessment
from grants import services as grants_services
from grants.choices import ApplicationStatus
from grants.models import Allocation, Application, Program
from members import fakes
from members import services as members_services
from members.choices import Role
from members.models import ApiClient, Member, Union, User
from members.services import regions_load
from tests.factories import (
    PDF,
    Cast,
    add_members,
    approve,
    build_cast,
    disburse,
    lockout,
    make_application,
    make_program,
    make_user,
    staff,
)
from tests.otp_helpers import give_device, next_code
from unionfunds.core import clock, otp
from unionfunds.core.models import AuditEvent

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")  # whitenoise, no collectstatic

PASSWORD = "Test-pass-2026"  # make_user's
NEW_PASSWORD = "Qz7!matrix-Pw"  # passes the project's password rules

# ---------------------------------------------------------------- who, and where the object is

PROVINCE, CITY, COUNTY, OFFICER = "province_staff", "city_staff", "county_staff", "union_officer"
PROVINCE_AUDITOR, CITY_AUDITOR = "province_auditor", "city_auditor"
STAFF = frozenset({PROVINCE, CITY, COUNTY})
AUDITORS = frozenset({PROVINCE_AUDITOR, CITY_AUDITOR})
EVERYONE = STAFF | AUDITORS | {OFFICER}


@dataclass(frozen=True)
class Place:
    county: str
    union: str  # the Cast attribute of the place's union

    @property
    def city(self) -> str:
        return self.county[:4] + "00"


PLACES = {
    "xihu_a": Place("330106", "union_xihu"),  # the officer's own union
    "xihu_b": Place("330106", "union_xihu_other"),  # another union of the same county
    "yuhang": Place("330110", "union_yuhang"),  # another county of the same city (Hangzhou)
    "yinzhou": Place("330212", "union_yinzhou"),  # another city (Ningbo)
}


@dataclass(frozen=True)
class Who:
    seat: str | None  # None: anonymous
    region: str | None = None  # home region (staff and auditors)
    place: str | None = None  # the officer's union


CAST = {
    "anonymous": Who(None),
    "province": Who(PROVINCE, "330000"),
    "auditor": Who(PROVINCE_AUDITOR, "330000"),
    "hangzhou": Who(CITY, "330100"),
    "city_auditor": Who(CITY_AUDITOR, "330100"),
    "ningbo": Who(CITY, "330200"),
    "xihu": Who(COUNTY, "330106"),
    "yuhang": Who(COUNTY, "330110"),
    "yinzhou": Who(COUNTY, "330212"),
    "officer": Who(OFFICER, place="xihu_a"),
}

# Where the object of a case sits, for each user (label → place). Xihu, Hangzhou and the officer get every
# position; Yuhang, Ningbo and Yinzhou (the same seats elsewhere) their own scope and, for Yuhang, the
# neighbouring county, which is enough to catch a rule that only holds for the first county or city.
POSITIONS = {
    "anonymous": {"someone's": "xihu_a"},
    "province": {"in-province": "yinzhou"},
    "auditor": {"in-province": "xihu_b"},
    "hangzhou": {"own-city": "yuhang", "other-city": "yinzhou"},
    "city_auditor": {"own-city": "xihu_b", "other-city": "yinzhou"},
    "ningbo": {"own-city": "yinzhou"},
    "xihu": {"own-county": "xihu_a", "same-city": "yuhang", "other-city": "yinzhou"},
    "yuhang": {"own-county": "yuhang", "same-city": "xihu_b"},
    "yinzhou": {"own-county": "yinzhou"},
    "officer": {"own-union": "xihu_a", "other-union": "xihu_b", "other-city": "yinzhou"},
}

# ---------------------------------------------------------------- the scope rule (docs/rules.md §1)

# Kinds of objects, by what places them in the tree:
UNION = "union"  # belongs to a union: the union, members, applications, attachments, allocations, accounts
FEDERATION = "federation"  # belongs to a county's federation: self-assessments, evidence, spot-checks, reports
AREA = "area"  # a region, or a program (and its round) run by a region


def sees(who: str, kind: str, place: str) -> bool:
    """A user sees objects inside their region's subtree; an officer only their own union's objects.

    Programs (and rounds) of a region are also seen by the users below it, since they are the funds
    those users apply to (README, "Programs"); so an officer sees their own county (region, programs)
    too. Evaluation belongs to the federations: an officer sees none of it (README, "Evaluation").
    """
    user, target = CAST[who], PLACES[place]
    if user.seat == OFFICER:
        home = PLACES[user.place]
        return {UNION: place == user.place, AREA: target.county == home.county, FEDERATION: False}[kind]
    return user.region in ("330000", target.city, target.county)


# ---------------------------------------------------------------- the role rule (docs/rules.md §1–§5)

MAY = {
    "read": EVERYONE,
    "union.register": {COUNTY},  # §1: the county registers and verifies its unions
    "union.edit": {COUNTY, OFFICER},  # §1: the union keeps its own profile
    # §2: verified by its county (who also suspends, reinstates and dissolves it)
    **{f"union.{action}": {COUNTY} for action in ("verify", "suspend", "reinstate", "dissolve")},
    "roster.keep": {COUNTY, OFFICER},  # §1: the union keeps its roster; the county registers
    "program.create": STAFF,  # §3: the province's fund; cities and counties may run their own
    "application.draft": {COUNTY, OFFICER},  # §1: unions draft; §3: submitted by union officer or county
    "application.edit": {COUNTY, OFFICER},
    "application.attach": {COUNTY, OFFICER},
    "application.submit": {COUNTY, OFFICER},
    "application.recommend": {COUNTY},
    "application.review": {CITY},
    "application.decide": {PROVINCE},  # the rows' application is of a provincial program
    "application.return": {COUNTY, CITY, PROVINCE},
    "allocation.disburse": STAFF,  # §3: tranches from federation to federation or union
    "allocation.spend": {COUNTY, OFFICER},  # §1: the union records expenditures (README: or its county)
    "round.create": {COUNTY},  # the program's owner opens its round; the rows' program is a county's
    "survey.enter": {COUNTY},  # §5: paper surveys typed in by county staff
    "assessment.submit": {COUNTY},
    "assessment.approve": {CITY},
    "assessment.return": {CITY, PROVINCE},
    "evidence.add": {COUNTY},
    "city.summary": {CITY},
    "spot.draw": {PROVINCE},
    "spot.verify": {PROVINCE},
    # Product decisions the rules leave open, kept as the app has them:
    "report.request": STAFF | AUDITORS,  # a report is how an auditor reads an evaluation
    "survey.invite": STAFF,  # federations create a union's survey link; not auditors, not the union scored
    "accounts.unlock": STAFF,  # README: federation staff unlock accounts of their scope
    "accounts.password": EVERYONE,  # everyone changes their own password (等保 2.0)
    "union.account": {COUNTY},  # README: the county opens its union officer's account
    "audit.view": {PROVINCE, PROVINCE_AUDITOR},  # README: province-level staff and auditors
    "accounts.two_factor": EVERYONE,  # everyone may bind an authenticator to their own account
    "accounts.two_factor_reset": {PROVINCE},  # the province's administrators reset a lost phone
    "clients.manage": {PROVINCE},  # the province registers and revokes outside systems
}

# Workflow verbs: the states each seat may act from (docs/rules.md and §4).
FROM_STATE = {
    "application.edit": {COUNTY: {"draft"}, OFFICER: {"draft"}},
    "application.attach": {s: {"draft", "submitted", "recommended", "reviewed"} for s in (COUNTY, OFFICER)},
    "application.submit": {COUNTY: {"draft"}, OFFICER: {"draft"}},
    "application.recommend": {COUNTY: {"submitted"}},
    "application.review": {CITY: {"recommended"}},
    "application.decide": {PROVINCE: {"reviewed"}},
    "application.return": {COUNTY: {"submitted"}, CITY: {"recommended"}, PROVINCE: {"reviewed"}},
    "union.verify": {COUNTY: {"pending"}},
    "union.suspend": {COUNTY: {"verified"}},
    "union.reinstate": {COUNTY: {"suspended"}},
    "union.dissolve": {COUNTY: {"pending", "verified", "suspended"}},
    "assessment.submit": {COUNTY: {"draft"}},
    "assessment.approve": {CITY: {"submitted"}},
    "assessment.return": {CITY: {"submitted"}, PROVINCE: {"approved"}},
    "evidence.add": {COUNTY: {"draft"}},
}


# ---------------------------------------------------------------- what a response must look like


def _messages(response) -> list:
    storage = getattr(response.wsgi_request, "_messages", None)
    return list(storage) if storage is not None else []


def _said(response, *levels) -> bool:
    return any(m.level in levels for m in _messages(response))


def _to(response, prefix: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(prefix)


SUCCESS, ERRORS = (message_levels.SUCCESS,), (message_levels.ERROR, message_levels.WARNING)


@dataclass(frozen=True)
class Outcome:
    label: str
    matches: Callable[[Any], bool] = field(compare=False)

    def __str__(self) -> str:
        return self.label


def status(*codes: int) -> Outcome:
    return Outcome("/".join(map(str, codes)), lambda r: r.status_code in codes)


OK200, CREATED, ACCEPTED = status(200), status(201), status(202)
BAD, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT = status(400), status(401), status(403), status(404), status(409)
FORBIDDEN_OR_BAD = status(400, 403)
LOGIN = Outcome("302 login", lambda r: _to(r, "/accounts/login/"))
ADMIN_LOGIN = Outcome("302 admin login", lambda r: _to(r, "/admin/login/"))
HOME = Outcome("302 home", lambda r: r.status_code == 302 and r["Location"] == "/")
DONE = Outcome(
    "302 done",
    lambda r: r.status_code == 302 and not _to(r, "/accounts/login/") and _said(r, *SUCCESS) and not _said(r, *ERRORS),
)
REFUSED = Outcome(
    "302 refused",
    lambda r: r.status_code == 302 and not _to(r, "/accounts/login/") and _said(r, *ERRORS) and not _said(r, *SUCCESS),
)
FORM_REFUSED = Outcome("refused", lambda r: (r.status_code == 200 and not _said(r, *SUCCESS)) or REFUSED.matches(r))

# ---------------------------------------------------------------- the table


@dataclass
class Case:
    """What a row's callables get: the objects of the position, the world and the acting user."""

    o: Any
    w: Any
    user: User | None


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the URL pattern with {kwarg} placeholders
    verb: str  # a key of MAY, or "public"
    target: str | None = None  # kind of the object the URL names
    kwargs: Callable[[Case], dict] = lambda c: {}
    setup: Callable[[Case], None] | None = None  # puts the object into ``state`` for this case
    state: str | None = None
    ref: str | None = None  # kind of the object the body names
    body: Callable[[Case], Any] | None = None
    multipart: bool = False
    query: dict | None = None  # added to the URL
    ok: Outcome | None = None  # the answer to a permitted user (default by method and kind)
    anonymous: Outcome | None = None
    # (kind, the id of the place's object, the ids the response lists): listed exactly when seen
    lists: tuple[str, Callable[[Any], Any], Callable[[Any], set]] | None = None
    only: tuple[str, ...] | None = None  # the users to run (with ``note`` saying why)
    check: Callable[[Any, Case], bool] | None = None  # more to a permitted answer than its status
    note: str = ""

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def permitted(self) -> Outcome:
        if self.ok is not None:
            return self.ok
        if self.api:
            return CREATED if self.method == "POST" else OK200
        return OK200 if self.method == "GET" else DONE


def expected(row: Row, who: str, place: str) -> Outcome:
    """The answer the rules call for when ``who`` sends ``row``'s request about the object at ``place``."""
    user = CAST[who]
    if row.verb == "public":
        return row.anonymous if user.seat is None and row.anonymous else row.permitted()
    if user.seat is None:
        return row.anonymous or (UNAUTHENTICATED if row.api else LOGIN)
    if row.target and not sees(who, row.target, place):
        return NOT_FOUND
    allowed = user.seat in MAY[row.verb]
    ref_seen = row.ref is None or sees(who, row.ref, place)
    if not allowed:
        if row.api:
            return FORBIDDEN if ref_seen else FORBIDDEN_OR_BAD
        return REFUSED if ref_seen else FORM_REFUSED
    if not ref_seen:
        return BAD if row.api else FORM_REFUSED
    states = FROM_STATE.get(row.verb)
    if row.state and states is not None and row.state not in states.get(user.seat, set()):
        return CONFLICT if row.api else REFUSED
    return row.permitted()


def also_post(row: Row) -> list[Row]:
    """A read-only page that answers POST the same way as GET (a function view that does not look at the
    method). The GET row runs every user; its POST twin anonymous and the officer (in and out of scope)."""
    post = dataclasses.replace(
        row,
        method="POST",
        ok=row.permitted(),
        only=("anonymous", "officer"),
        note="the view does not look at the method: POST reads like GET",
    )
    return [row, post]


def api(method, path, verb, **kw) -> Row:
    return Row(method, "/api/v1" + path if not path.startswith("/api/") else path, verb, **kw)


def page(method, path, verb, **kw) -> Row:
    return Row(method, path, verb, **kw)


def json_ids(name: str) -> Callable[[Any], set]:
    def listed(response) -> set:
        data = response.json()
        return {item[name] for item in (data["results"] if isinstance(data, dict) else data)}

    return listed


def context_ids(name: str) -> Callable[[Any], set]:
    def listed(response) -> set:
        items = response.context[name]
        return {item.pk for item in getattr(items, "object_list", items)}

    return listed


def today() -> str:
    return clock.today().isoformat()


def status_of(model, attribute: str, value: str) -> Callable[[Case], None]:
    """Per-case setup: the place's object in ``value`` (one UPDATE, rolled back with the case)."""

    def setup(c: Case) -> None:
        obj = getattr(c.o, attribute)
        model.objects.filter(pk=obj.pk).update(status=value)

    return setup


def union_kw(c):
    return {"pk": c.o.union.pk}


def members_kw(c):
    return {"union_pk": c.o.union.pk}


def member_kw(c):
    return {"union_pk": c.o.union.pk, "pk": c.o.member.pk}


def application_kw(c):
    return {"pk": c.o.application.pk}


def allocation_kw(c):
    return {"pk": c.o.allocation.pk}


def assessment_kw(c):
    return {"pk": c.o.assessment.pk}


def county_round_kw(c):
    return {"pk": c.o.county_round.pk}


def union_data(c: Case) -> dict:
    """A new union of the place's county (valid credit code of that county)."""
    return {
        "name": "三墩镇新就业形态联合工会（矩阵）",
        "credit_code": fakes.credit_code(random.Random("matrix-union"), c.o.county),
        "org_form": "joint_union",
        "county": c.o.county,
        "parent_level": "township",
        "covered_groups": ["courier"],
        "chair_name": "张伟",
        "chair_elected_on": "2024-03-01",
        "chair_term_years": 5,
        "committee_size": 5,
        "founded_on": "2023-01-01",
    }


def union_form_of(c: Case) -> dict:
    u = c.o.union
    return {
        "name": u.name,
        "credit_code": u.credit_code,
        "org_form": u.org_form,
        "county": u.county_id,
        "parent_level": u.parent_level,
        "covered_groups": u.groups,
        "chair_name": "李明",
        "chair_elected_on": u.chair_elected_on.isoformat(),
        "chair_term_years": u.chair_term_years,
        "committee_size": u.committee_size,
        "founded_on": u.founded_on.isoformat(),
        "funds_hard_to_guarantee": "on",
    }


NEW_MEMBER_ID = fakes.id_number(random.Random("matrix-member"))


def member_data(c: Case) -> dict:
    return {
        "name": "矩阵会员",
        "id_number": NEW_MEMBER_ID,
        "phone": "13900001111",
        "group": "courier",
        "platform": "顺丰速运",
        "joined_on": "2025-01-15",
    }


def roster_file(c: Case) -> dict:
    csv = "name,id_number,gender,phone,group,platform,joined_on\n"
    csv += f"矩阵导入,{NEW_MEMBER_ID},,13900002222,courier,顺丰速运,2025-01-15\n"
    return {"file": SimpleUploadedFile("roster.csv", csv.encode(), content_type="text/csv")}


def program_data(c: Case) -> dict:
    return {
        "name": "矩阵新设项目",
        "year": clock.today().year,
        "budget_total": "100000.00",
        "funding_sources": [{"source": "union", "amount": "100000.00"}],
        "target_count": 10,
        "opens_on": today(),
        "closes_on": (clock.today() + dt.timedelta(days=30)).isoformat(),
        "categories": ["activities"],
    }


def program_form(c: Case) -> dict:
    return {
        "name": "矩阵新设项目",
        "year": clock.today().year,
        "budget_total": "100000.00",
        "union": "100000.00",
        "target_count": 10,
        "opens_on": today(),
        "closes_on": (clock.today() + dt.timedelta(days=30)).isoformat(),
        "categories": ["activities"],
        "min_members": 150,
        "min_committee": 3,
    }


def application_data(c: Case) -> dict:
    return {
        "program": c.w.fresh_program.pk,
        "union": c.o.union.pk,
        "requested_amount": "10000.00",
        "budget_lines": [{"category": "activities", "amount": "10000.00", "description": "节日慰问"}],
        "plan": "为骑手送清凉。",
    }


def application_form(c: Case) -> dict:
    return {
        "program": c.w.fresh_program.pk,
        "union": c.o.union.pk,
        "requested_amount": "10000.00",
        "budget_lines": "activities 10000.00 节日慰问",
        "plan": "为骑手送清凉。",
    }


def pdf(name: str = "file.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def comment(c: Case) -> dict:
    return {"comment": "请补充材料。"}


def expense(c: Case) -> dict:
    return {
        "spent_on": today(),
        "category": "activities",
        "amount": "100.00",
        "description": "矩阵测试支出",
        "voucher_no": "MATRIX-ZC-1",
        "beneficiaries": 3,
    }


def tranche(c: Case) -> dict:
    return {"amount": "100.00", "paid_on": today(), "voucher_no": "MATRIX-BF-1", "to": ""}


SCORES = {"utilization": "80.00", "coverage": "80.00", "satisfaction": "80.00"}


def survey_thanks(response, c: Case) -> bool:
    return response.context["state"] == "thanks"


APPLICATION_ACTIONS = [
    # action, verb, state the setup leaves the application in, body
    ("submit", "application.submit", "draft", lambda c: {}),
    ("recommend", "application.recommend", "submitted", lambda c: {}),
    ("review", "application.review", "recommended", lambda c: {}),
    ("approve", "application.decide", "reviewed", lambda c: {"approved_amount": "10000.00"}),
    ("reject", "application.decide", "reviewed", comment),
    ("return", "application.return", "submitted", comment),
]
ASSESSMENT_ACTIONS = [
    ("submit", "assessment.submit", "draft", lambda c: {"narrative": "本县按计划使用专项经费。"}),
    ("approve", "assessment.approve", "submitted", lambda c: {}),
    ("return", "assessment.return", "submitted", comment),
]
UNION_ACTIONS = [("verify", "pending"), ("suspend", "verified"), ("reinstate", "suspended"), ("dissolve", "verified")]


ROWS: list[Row] = [
    # ------------------------------------------------------------ API: members
    api("GET", "/", "read"),
    api(
        "POST",
        "/auth/token/",
        "public",
        body=lambda c: {
            "username": c.user.username if c.user else "t_xihu",
            "password": PASSWORD if c.user else "x",
            **({"otp": next_code(c.user)} if c.user and otp.has_device(c.user) else {}),
        },
        ok=OK200,
        anonymous=BAD,
        note="public: each user sends their own credentials (and code); anonymous a wrong password",
    ),
    api("GET", "/regions/", "read", lists=(AREA, lambda o: o.county, json_ids("code"))),
    api("GET", "/regions/{code}/", "read", target=AREA, kwargs=lambda c: {"code": c.o.county}),
    api("GET", "/unions/", "read", lists=(UNION, lambda o: o.union.pk, json_ids("id"))),
    api("POST", "/unions/", "union.register", ref=AREA, body=union_data),
    api("GET", "/unions/{pk}/", "read", target=UNION, kwargs=union_kw),
    api(
        "PATCH",
        "/unions/{pk}/",
        "union.edit",
        target=UNION,
        kwargs=union_kw,
        body=lambda c: {"chair_name": "李明"},
        ok=OK200,
    ),
    *[
        api(
            "POST",
            f"/unions/{{pk}}/{action}/",
            f"union.{action}",
            target=UNION,
            kwargs=union_kw,
            setup=status_of(Union, "union", state),
            state=state,
            body=lambda c: {"comment": "县总工会办理"},
            ok=OK200,
        )
        for action, state in UNION_ACTIONS
    ],
    api("GET", "/unions/{union_pk}/members/", "read", target=UNION, kwargs=members_kw),
    api("POST", "/unions/{union_pk}/members/", "roster.keep", target=UNION, kwargs=members_kw, body=member_data),
    api(
        "POST",
        "/unions/{union_pk}/members/import/",
        "roster.keep",
        target=UNION,
        kwargs=members_kw,
        body=roster_file,
        multipart=True,
        ok=OK200,
    ),
    api("GET", "/unions/{union_pk}/members/{pk}/", "read", target=UNION, kwargs=member_kw),
    api(
        "PATCH",
        "/unions/{union_pk}/members/{pk}/",
        "roster.keep",
        target=UNION,
        kwargs=member_kw,
        body=lambda c: {"platform": "饿了么"},
        ok=OK200,
    ),
    # ------------------------------------------------------------ API: grants
    api("GET", "/programs/", "read", lists=(AREA, lambda o: o.open_program.pk, json_ids("id"))),
    api("POST", "/programs/", "program.create", body=program_data),
    api("GET", "/programs/{pk}/", "read", target=AREA, kwargs=lambda c: {"pk": c.o.open_program.pk}),
    api("GET", "/programs/{pk}/budget/", "read", target=AREA, kwargs=lambda c: {"pk": c.o.open_program.pk}),
    api("GET", "/applications/", "read", lists=(UNION, lambda o: o.application.pk, json_ids("id"))),
    api("POST", "/applications/", "application.draft", ref=UNION, body=application_data),
    api("GET", "/applications/{pk}/", "read", target=UNION, kwargs=application_kw),
    api(
        "PATCH",
        "/applications/{pk}/",
        "application.edit",
        target=UNION,
        kwargs=application_kw,
        state="draft",
        body=lambda c: {"plan": "改为冬季送温暖。"},
        ok=OK200,
    ),
    api("GET", "/applications/{pk}/eligibility/", "read", target=UNION, kwargs=application_kw),
    *[
        api(
            "POST",
            f"/applications/{{pk}}/{action}/",
            verb,
            target=UNION,
            kwargs=application_kw,
            setup=status_of(Application, "application", state),
            state=state,
            body=body,
            ok=OK200,
        )
        for action, verb, state, body in APPLICATION_ACTIONS
    ],
    api("GET", "/allocations/", "read", lists=(UNION, lambda o: o.allocation.pk, json_ids("id"))),
    api(
        "GET",
        "/allocations/summary/",
        "read",
        query={"group_by": "county"},
        lists=(AREA, lambda o: o.county, json_ids("key")),
    ),
    api("GET", "/allocations/{pk}/", "read", target=UNION, kwargs=allocation_kw),
    api(
        "POST",
        "/allocations/{pk}/disbursements/",
        "allocation.disburse",
        target=UNION,
        kwargs=allocation_kw,
        body=tranche,
    ),
    api(
        "POST", "/allocations/{pk}/expenditures/", "allocation.spend", target=UNION, kwargs=allocation_kw, body=expense
    ),
    # ------------------------------------------------------------ API: evaluation
    api("GET", "/evaluation-rounds/", "read", lists=(AREA, lambda o: o.county_round.pk, json_ids("id"))),
    api("POST", "/evaluation-rounds/", "round.create", ref=AREA, body=lambda c: {"program": c.o.open_program.pk}),
    api("GET", "/evaluation-rounds/{pk}/", "read", target=AREA, kwargs=county_round_kw),
    api(
        "POST",
        "/evaluation-rounds/{pk}/survey-responses/",
        "survey.enter",
        kwargs=lambda c: {"pk": c.w.round.pk},
        ref=UNION,
        body=lambda c: [{"union": c.o.union.pk, "answer": "satisfied"}],
        note="the provincial round: everyone sees it, so the union in the body decides the scope",
    ),
    api(
        "POST",
        "/evaluation-rounds/{pk}/spot-check/",
        "spot.draw",
        target=AREA,
        kwargs=county_round_kw,
        body=lambda c: {"count": 1, "seed": 7},
    ),
    api("GET", "/self-assessments/", "read", lists=(FEDERATION, lambda o: o.assessment.pk, json_ids("id"))),
    api("GET", "/self-assessments/{pk}/", "read", target=FEDERATION, kwargs=assessment_kw),
    *[
        api(
            "POST",
            f"/self-assessments/{{pk}}/{action}/",
            verb,
            target=FEDERATION,
            kwargs=assessment_kw,
            setup=status_of(SelfAssessment, "assessment", state),
            state=state,
            body=body,
            ok=OK200,
        )
        for action, verb, state, body in ASSESSMENT_ACTIONS
    ],
    api("GET", "/spot-checks/", "read", lists=(FEDERATION, lambda o: o.spot_check.pk, json_ids("id"))),
    api("GET", "/spot-checks/{pk}/", "read", target=FEDERATION, kwargs=lambda c: {"pk": c.o.spot_check.pk}),
    api(
        "POST",
        "/spot-checks/{pk}/verify/",
        "spot.verify",
        target=FEDERATION,
        kwargs=lambda c: {"pk": c.o.spot_check.pk},
        body=lambda c: {"scores": SCORES, "findings": "抽查属实。"},
        ok=OK200,
    ),
    api("GET", "/reports/", "read", lists=(FEDERATION, lambda o: o.report.pk, json_ids("id"))),
    api(
        "POST",
        "/reports/",
        "report.request",
        ref=AREA,
        body=lambda c: {"kind": "county", "round": c.w.round.pk, "region": c.o.county},
        ok=ACCEPTED,
        note="to confirm: auditors (read-only) may ask for a report; kept as the app has it",
    ),
    api("GET", "/reports/{pk}/", "read", target=FEDERATION, kwargs=lambda c: {"pk": c.o.report.pk}),
    api("GET", "/reports/{pk}/download/", "read", target=FEDERATION, kwargs=lambda c: {"pk": c.o.report.pk}),
    # ------------------------------------------------------------ API documentation
    api(
        "GET",
        "/api/schema/",
        "public",
        only=("anonymous", "officer"),
        note="public by design (drf-spectacular's default); the same for every role, and slow to build",
    ),
    api("GET", "/api/docs/", "public", note="public: the Swagger page, it holds no data"),
    # ------------------------------------------------------------ accounts, language, admin
    page("GET", "/accounts/login/", "public", ok=HOME, anonymous=OK200, note="signed-in users go home"),
    *[
        page(
            method,
            "/accounts/login/",
            "public",
            body=lambda c: {
                "username": c.user.username if c.user else "t_xihu",
                "password": PASSWORD if c.user else "x",
            },
            ok=HOME,
            anonymous=OK200,
            note="signed-in users go home; anonymous with a wrong password gets the form again",
        )
        for method in ("POST", "PUT")
    ],
    page("POST", "/accounts/logout/", "public", ok=LOGIN),
    *[
        page(method, "/i18n/setlang/", "public", body=lambda c: {"language": "en", "next": "/"}, ok=HOME)
        for method in ("GET", "POST")
    ],
    page(
        "GET",
        "/admin/",
        "public",
        ok=ADMIN_LOGIN,
        note="covers the admin namespace: no account of the cast is is_staff",
    ),
    *[
        page(
            method,
            "/admin/login/",
            "public",
            body=lambda c: {"username": "t_province", "password": PASSWORD},
            ok=HOME,
            anonymous=LOGIN,
            note="the admin's own password-only form is never used: everyone goes to the two-step login",
        )
        for method in ("GET", "POST")
    ],
    page(
        "POST",
        "/o/token/",
        "public",
        body=lambda c: {"grant_type": "client_credentials"},
        ok=UNAUTHENTICATED,
        anonymous=UNAUTHENTICATED,
        note="outside systems' token endpoint: without client credentials nobody gets a token",
    ),
    *[
        page(
            method,
            "/accounts/login/code/",
            "public",
            body=lambda c: {"code": "000000"},
            ok=HOME,
            anonymous=LOGIN,
            note="the second login step: without a first step in this session, back to the login",
        )
        for method in ("GET", "POST")
    ],
    page("GET", "/accounts/two-factor/", "accounts.two_factor"),
    page(
        "POST",
        "/accounts/two-factor/",
        "accounts.two_factor",
        body=lambda c: {"code": "000000"},
        ok=OK200,
        note="one's own authenticator; a wrong first code gets the form again",
    ),
    page("GET", "/accounts/two-factor/accounts/", "accounts.two_factor_reset"),
    page(
        "POST",
        "/accounts/two-factor/accounts/",
        "accounts.two_factor_reset",
        ref=UNION,
        setup=lambda c: give_device(c.o.officer_account),
        body=lambda c: {"username": c.o.officer_account.username},
        note="the account reset is the officer of the place's union",
    ),
    page("GET", "/accounts/clients/", "clients.manage"),
    page(
        "POST",
        "/accounts/clients/",
        "clients.manage",
        ref=AREA,
        body=lambda c: {"name": "矩阵外部系统", "region": c.o.county, "scopes": ["allocations:read"]},
        ok=OK200,
        note="the answer shows the new client's secret (once), so it is a page, not a redirect",
    ),
    page(
        "POST",
        "/accounts/clients/{pk}/revoke/",
        "clients.manage",
        kwargs=lambda c: {"pk": c.w.api_client.pk},
    ),
    page("GET", "/healthz/", "public", ok=OK200, note="the load balancer's probe: no account, only ok/down"),
    page("GET", "/admin/members/union/", "public", ok=ADMIN_LOGIN),
    # ------------------------------------------------------------ pages: members
    *also_post(page("GET", "/", "read")),
    page("GET", "/accounts/password/", "accounts.password"),
    page(
        "POST",
        "/accounts/password/",
        "accounts.password",
        body=lambda c: {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        note="one's own password: there is no object, so no position changes the answer",
    ),
    page("GET", "/accounts/locked/", "accounts.unlock"),
    page(
        "POST",
        "/accounts/locked/",
        "accounts.unlock",
        ref=UNION,
        body=lambda c: {"username": c.o.officer_account.username},
        note="the account unlocked is the officer of the place's union",
    ),
    *also_post(page("GET", "/audit/", "audit.view")),
    *also_post(page("GET", "/unions/", "read", lists=(UNION, lambda o: o.union.pk, context_ids("page")))),
    page("GET", "/unions/new/", "union.register"),
    page("POST", "/unions/new/", "union.register", ref=AREA, body=union_data),
    *also_post(page("GET", "/unions/roster-template/", "read", query={"format": "csv"})),  # xlsx is slow to build
    *also_post(page("GET", "/unions/{pk}/", "read", target=UNION, kwargs=union_kw)),
    page("GET", "/unions/{pk}/edit/", "union.edit", target=UNION, kwargs=union_kw),
    page("POST", "/unions/{pk}/edit/", "union.edit", target=UNION, kwargs=union_kw, body=union_form_of),
    *[
        page(
            "POST",
            f"/unions/{{pk}}/{action}/",
            f"union.{action}",
            target=UNION,
            kwargs=union_kw,
            setup=status_of(Union, "union", state),
            state=state,
            body=lambda c: {"comment": "县总工会办理"},
        )
        for action, state in UNION_ACTIONS
    ],
    page("GET", "/unions/{pk}/accounts/new/", "union.account", target=UNION, kwargs=union_kw),
    page(
        "POST",
        "/unions/{pk}/accounts/new/",
        "union.account",
        target=UNION,
        kwargs=union_kw,
        body=lambda c: {"username": "matrix_officer", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    ),
    page("GET", "/unions/{pk}/members/import/", "roster.keep", target=UNION, kwargs=union_kw),
    page(
        "POST",
        "/unions/{pk}/members/import/",
        "roster.keep",
        target=UNION,
        kwargs=union_kw,
        body=roster_file,
        multipart=True,
    ),
    page("GET", "/unions/{pk}/members/new/", "roster.keep", target=UNION, kwargs=union_kw),
    page("POST", "/unions/{pk}/members/new/", "roster.keep", target=UNION, kwargs=union_kw, body=member_data),
    page(
        "POST",
        "/unions/{pk}/members/{member_pk}/leave/",
        "roster.keep",
        target=UNION,
        kwargs=lambda c: {"pk": c.o.union.pk, "member_pk": c.o.member.pk},
        body=lambda c: {"left_on": today()},
    ),
    # ------------------------------------------------------------ pages: grants
    *also_post(page("GET", "/applications/", "read")),
    page("GET", "/applications/new/", "application.draft"),
    page("POST", "/applications/new/", "application.draft", ref=UNION, body=application_form),
    *also_post(page("GET", "/applications/{pk}/", "read", target=UNION, kwargs=application_kw)),
    page("GET", "/applications/{pk}/edit/", "application.edit", target=UNION, kwargs=application_kw, state="draft"),
    page(
        "POST",
        "/applications/{pk}/edit/",
        "application.edit",
        target=UNION,
        kwargs=application_kw,
        state="draft",
        body=lambda c: {
            "requested_amount": "50000.00",
            "plan": "改为冬季送温暖。",
            "budget_lines": "activities 50000.00 送温暖",
        },
    ),
    *[
        page(
            "POST",
            f"/applications/{{pk}}/{action}/",
            verb,
            target=UNION,
            kwargs=application_kw,
            setup=status_of(Application, "application", state),
            state=state,
            body=body,
        )
        for action, verb, state, body in APPLICATION_ACTIONS
    ],
    page(
        "POST",
        "/applications/{pk}/attachments/",
        "application.attach",
        target=UNION,
        kwargs=application_kw,
        state="draft",
        body=lambda c: {"kind": "plan", "file": pdf("plan.pdf")},
        multipart=True,
    ),
    *also_post(
        page(
            "GET",
            "/applications/{pk}/attachments/{attachment_pk}/",
            "read",
            target=UNION,
            kwargs=lambda c: {"pk": c.o.application.pk, "attachment_pk": c.o.attachment.pk},
        )
    ),
    *also_post(page("GET", "/allocations/", "read", lists=(UNION, lambda o: o.allocation.pk, context_ids("page")))),
    *also_post(page("GET", "/allocations/{pk}/", "read", target=UNION, kwargs=allocation_kw)),
    page(
        "POST",
        "/allocations/{pk}/disbursements/",
        "allocation.disburse",
        target=UNION,
        kwargs=allocation_kw,
        body=tranche,
    ),
    page(
        "POST", "/allocations/{pk}/expenditures/", "allocation.spend", target=UNION, kwargs=allocation_kw, body=expense
    ),
    *also_post(
        page(
            "GET",
            "/allocations/{pk}/expenditures/{expenditure_pk}/voucher/",
            "read",
            target=UNION,
            kwargs=lambda c: {"pk": c.o.allocation.pk, "expenditure_pk": c.o.expenditure.pk},
        )
    ),
    *also_post(page("GET", "/dashboard/", "read")),
    *also_post(page("GET", "/programs/", "read", lists=(AREA, lambda o: o.open_program.pk, context_ids("programs")))),
    page("GET", "/programs/new/", "program.create"),
    page("POST", "/programs/new/", "program.create", body=program_form),
    *also_post(page("GET", "/programs/{pk}/", "read", target=AREA, kwargs=lambda c: {"pk": c.o.open_program.pk})),
    # ------------------------------------------------------------ pages: evaluation
    *also_post(page("GET", "/evaluation/", "read")),
    page(
        "POST",
        "/evaluation/rounds/new/",
        "round.create",
        ref=AREA,
        body=lambda c: {
            "program": c.o.open_program.pk,
            "coverage_target": "0.2",
            "min_responses": 10,
            "weight_satisfaction": "0.5",
            "weight_utilization": "0.3",
            "weight_coverage": "0.2",
        },
    ),
    page(
        "POST",
        "/evaluation/rounds/{pk}/city-summary/",
        "city.summary",
        target=AREA,
        kwargs=county_round_kw,
        body=lambda c: {"narrative": "全市按计划完成。"},
    ),
    page(
        "POST",
        "/evaluation/rounds/{pk}/spot-check/",
        "spot.draw",
        target=AREA,
        kwargs=county_round_kw,
        body=lambda c: {"count": 1, "seed": 7},
    ),
    page(
        "POST",
        "/evaluation/rounds/{pk}/reports/",
        "report.request",
        target=AREA,
        kwargs=county_round_kw,
        body=lambda c: {"kind": "county", "region": c.o.county},
        note="to confirm: auditors (read-only) may ask for a report; kept as the app has it",
    ),
    *also_post(page("GET", "/evaluation/rounds/{pk}/surveys/", "read", target=AREA, kwargs=county_round_kw)),
    page(
        "POST",
        "/evaluation/rounds/{pk}/surveys/paper/",
        "survey.enter",
        target=AREA,
        kwargs=county_round_kw,
        body=lambda c: {
            "union": c.o.union.pk,
            "very_satisfied": 1,
            "satisfied": 2,
            "neutral": 0,
            "dissatisfied": 0,
            "very_dissatisfied": 0,
        },
    ),
    page(
        "POST",
        "/evaluation/rounds/{pk}/surveys/import/",
        "survey.enter",
        target=AREA,
        kwargs=county_round_kw,
        body=lambda c: {
            "file": SimpleUploadedFile(
                "answers.csv", f"credit_code,answer\n{c.o.union.credit_code},satisfied\n".encode()
            )
        },
        multipart=True,
    ),
    page(
        "POST",
        "/evaluation/rounds/{pk}/surveys/{union_pk}/invite/",
        "survey.invite",
        target=UNION,
        kwargs=lambda c: {"pk": c.w.round.pk, "union_pk": c.o.union.pk},
        note="the provincial round: everyone sees it, so the union decides the scope; federation staff only "
        "create the link (evaluation.permissions.can_create_survey_invite)",
    ),
    *also_post(page("GET", "/evaluation/assessments/{pk}/", "read", target=FEDERATION, kwargs=assessment_kw)),
    *[
        page(
            "POST",
            f"/evaluation/assessments/{{pk}}/{action}/",
            verb,
            target=FEDERATION,
            kwargs=assessment_kw,
            setup=status_of(SelfAssessment, "assessment", state),
            state=state,
            body=body,
        )
        for action, verb, state, body in ASSESSMENT_ACTIONS
    ],
    page(
        "POST",
        "/evaluation/assessments/{pk}/evidence/",
        "evidence.add",
        target=FEDERATION,
        kwargs=assessment_kw,
        setup=status_of(SelfAssessment, "assessment", "draft"),
        state="draft",
        body=lambda c: {"file": pdf("evidence.pdf")},
        multipart=True,
    ),
    *also_post(
        page(
            "GET",
            "/evaluation/assessments/{pk}/evidence/{evidence_pk}/",
            "read",
            target=FEDERATION,
            kwargs=lambda c: {"pk": c.o.assessment.pk, "evidence_pk": c.o.evidence.pk},
        )
    ),
    page(
        "POST",
        "/evaluation/spot-checks/{pk}/",
        "spot.verify",
        target=FEDERATION,
        kwargs=lambda c: {"pk": c.o.spot_check.pk},
        body=lambda c: {**SCORES, "findings": "抽查属实。"},
    ),
    *also_post(
        page(
            "GET",
            "/evaluation/reports/{pk}/download/",
            "read",
            target=FEDERATION,
            kwargs=lambda c: {"pk": c.o.report.pk},
        )
    ),
    page(
        "GET",
        "/s/{token}/",
        "public",
        kwargs=lambda c: {"token": c.o.invite.token},
        note="public: the token is the key",
    ),
    page(
        "POST",
        "/s/{token}/",
        "public",
        kwargs=lambda c: {"token": c.o.invite.token},
        body=lambda c: {"answer": "satisfied"},
        ok=OK200,
        check=survey_thanks,
    ),
]


# ---------------------------------------------------------------- the world


@dataclass
class Objects:
    """What sits at one place: its union's objects and its county's."""

    county: str
    union: Union
    member: Member
    officer_account: User
    application: Application  # draft, in a provincial program
    attachment: Any
    allocation: Allocation  # approved in another provincial program, partly disbursed, one expenditure
    expenditure: Any
    open_program: Program  # a program of the county without a round
    county_round: EvaluationRound  # the round of a county program, its one assessment approved
    assessment: SelfAssessment  # the county's, in the provincial round (approved, spot-checked)
    evidence: Any
    spot_check: Any
    report: ReportJob  # a finished county report
    invite: Any  # the union's survey link in the provincial round


@dataclass
class World:
    cast: Cast
    at: dict[str, Objects]
    round: EvaluationRound  # the provincial round
    fresh_program: Program  # a provincial program nobody has applied to
    api_client: ApiClient  # an outside system of Hangzhou
    sessions: dict[str, str] = field(default_factory=dict)  # user → session key (a login per case is slow)


def build_world() -> World:
    regions_load()
    cast = build_cast()
    for who, user in cast.users().items():  # CAST describes the fixture's users; check it still does
        seat = CAST[who].seat
        assert user.role == (Role.AUDITOR if seat in AUDITORS else seat), who
        assert user.region_id == CAST[who].region, who
        assert seat != OFFICER or user.union == getattr(cast, PLACES[CAST[who].place].union), who
    unions = {key: getattr(cast, p.union) for key, p in PLACES.items()}
    for union in unions.values():
        add_members(union, 150)
    officers = {"xihu_a": cast.officer}
    for key in ("xihu_b", "yuhang", "yinzhou"):
        officers[key] = make_user(f"t_officer_{key}", Role.UNION_OFFICER, union=unions[key])
    for account in officers.values():
        lockout(account.username)

    granted = make_program(cast.province, name="矩阵·已下拨项目")
    applied = make_program(cast.province, name="矩阵·申请中项目")
    fresh = make_program(cast.province, name="矩阵·新项目")
    per_union = {}
    for key, union in unions.items():
        county_staff = staff(union.county_id)
        allocation = approve(granted, union, "30000.00")
        disburse(allocation, "20000.00")
        expenditure = grants_services.expenditure_record(
            allocation=allocation,
            data={
                "spent_on": clock.today(),
                "category": "activities",
                "amount": "1000.00",
                "description": "外卖骑手夏季送清凉",
                "voucher_no": f"ZC-{key}",
                "beneficiaries": 30,
            },
            by=county_staff,
            voucher_name="voucher.pdf",
            voucher_content=PDF,
        )
        application = make_application(applied, union)
        attachment = grants_services.attachment_add(
            application=application, kind="plan", filename="plan.pdf", content=PDF, by=county_staff
        )
        per_union[key] = (allocation, expenditure, application, attachment)

    provincial_round = evaluation_services.round_create(program=granted, by=cast.province)
    per_county = {}
    for county in sorted({p.county for p in PLACES.values()}):
        county_staff, city_staff = staff(county), staff(county[:4] + "00")
        own = make_program(
            county_staff,
            owner=county,
            name="矩阵·县级项目",
            budget_total="1000000.00",
            funding_sources=[{"source": "union", "amount": "1000000.00"}],
            target_count=10,
            max_grant="50000.00",
        )
        for key, p in PLACES.items():
            if p.county == county:
                make_application(own, unions[key], until=ApplicationStatus.APPROVED, requested="10000.00")
        county_round = evaluation_services.round_create(program=own, by=county_staff)
        only = SelfAssessment.objects.get(round=county_round)
        evaluation_services.assessment_submit(assessment=only, narrative="县级项目自评。", by=county_staff)
        evaluation_services.assessment_approve(assessment=only, by=city_staff)
        open_program = make_program(
            county_staff,
            owner=county,
            name="矩阵·县级未评价项目",
            budget_total="500000.00",
            funding_sources=[{"source": "union", "amount": "500000.00"}],
            target_count=10,
            max_grant="50000.00",
        )
        assessment = SelfAssessment.objects.get(round=provincial_round, county_id=county)
        evidence = evaluation_services.evidence_add(
            assessment=assessment, filename="evidence.pdf", content=PDF, by=county_staff
        )
        evaluation_services.assessment_submit(assessment=assessment, narrative="本县按计划使用。", by=county_staff)
        evaluation_services.assessment_approve(assessment=assessment, by=city_staff)
        report = ReportJob.objects.create(
            kind="county",
            round=provincial_round,
            region_id=county,
            status="done",
            progress=100,
            requested_by=county_staff,
            finished_at=timezone.now(),
        )
        version = ReportVersion(job=report, number=1, sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF), pages=1)
        version.file.save("report.pdf", ContentFile(PDF), save=False)
        version.save()
        per_county[county] = (open_program, county_round, assessment, evidence, report)
    draw = evaluation_services.spot_check_draw(round_=provincial_round, by=cast.province, count=3, seed=1)
    checks = {c.assessment.county_id: c for c in draw.checks.select_related("assessment")}

    at = {}
    for key, p in PLACES.items():
        allocation, expenditure, application, attachment = per_union[key]
        open_program, county_round, assessment, evidence, report = per_county[p.county]
        at[key] = Objects(
            county=p.county,
            union=unions[key],
            member=Member.objects.filter(union=unions[key]).order_by("id").first(),
            officer_account=officers[key],
            application=application,
            attachment=attachment,
            allocation=allocation,
            expenditure=expenditure,
            open_program=open_program,
            county_round=county_round,
            assessment=assessment,
            evidence=evidence,
            spot_check=checks[p.county],
            report=report,
            invite=evaluation_services.survey_invite(round_=provincial_round, union=unions[key], by=staff(p.county)),
        )
    for user in cast.users().values():
        if user.two_factor_required:  # the province's staff and the auditors log in with two factors
            give_device(user)
    client, _secret = members_services.api_client_register(
        name="矩阵·外部系统", region_code="330100", scopes=["allocations:read"], by=cast.province
    )
    world = World(cast=cast, at=at, round=provincial_round, fresh_program=fresh, api_client=client)
    for who, user in cast.users().items():
        client = Client()
        client.force_login(user)
        world.sessions[who] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once, inside a transaction rolled back after the module; each case is a savepoint in it."""
    overrides = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("matrix-media"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    overrides.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            # Fire PostgreSQL's deferred foreign-key checks of the world now: left pending, they would be
            # fired again (and rolled back) at the end of every case, thousands of times.
            connection.check_constraints()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            overrides.disable()
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
    overrides.disable()


# ---------------------------------------------------------------- the cases


def cases():
    for row in ROWS:
        for who, positions in POSITIONS.items():
            if row.only and who not in row.only:
                continue
            if not (row.target or row.ref or row.lists or "{" in row.path):
                positions = {"—": next(iter(positions.values()))}  # nothing at a place: one case per user
            for label, place in positions.items():
                outcome = expected(row, who, place)
                yield pytest.param(
                    row, who, place, outcome, id=f"{row.method} {row.path} · {who} · {label} → {outcome}"
                )


_addresses = itertools.count(1)


def _send(row: Row, who: str, c: Case):
    url = row.path.format(**row.kwargs(c))
    query = {**(row.query or {}), **({"page_size": 500} if row.api and row.lists else {})}
    if query:
        url += "?" + urlencode(query)
    body = row.body(c) if row.body else None
    address = f"10.9.{next(_addresses) % 250}.{next(_addresses) % 250 + 1}"  # the survey rate limit is per address
    if row.api:
        client = APIClient(REMOTE_ADDR=address)
        if c.user is not None:
            client.force_authenticate(user=c.user)
        if row.method == "GET":
            return client.get(url)
        return getattr(client, row.method.lower())(url, body or {}, format="multipart" if row.multipart else "json")
    client = Client(REMOTE_ADDR=address)
    if c.user is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = c.w.sessions[who]
    client.cookies["uf_device"] = f"matrix-{who}"
    if row.method == "GET":
        return client.get(url, body)
    if row.method == "PUT":
        return client.put(url, urlencode(body or {}), content_type="application/x-www-form-urlencoded")
    return client.post(url, body or {})


def _describe(response) -> str:
    where = f" → {response['Location']}" if response.status_code in (301, 302) else ""
    said = [f"{m.level_tag}: {m.message}" for m in _messages(response)]
    text = ""
    if response.get("Content-Type", "").startswith("application/json"):
        text = response.content.decode()[:300]
    return f"{response.status_code}{where} {said or ''} {text}".strip()


@pytest.mark.parametrize(("row", "who", "place", "outcome"), list(cases()))
def test_matrix(world, db, row: Row, who: str, place: str, outcome: Outcome):
    user = getattr(world.cast, who) if who != "anonymous" else None
    c = Case(o=world.at[place], w=world, user=user)
    if row.setup:
        row.setup(c)
    audit_before = AuditEvent.objects.count()
    response = _send(row, who, c)
    assert outcome.matches(response), f"expected {outcome}, got {_describe(response)}"
    if row.method != "GET" and outcome not in (OK200, CREATED, ACCEPTED, DONE, HOME, LOGIN):
        assert AuditEvent.objects.count() == audit_before, "a refused request changed the audit trail"
    if outcome in (OK200, CREATED, ACCEPTED) and row.lists:
        kind, object_id, listed_in = row.lists
        listed = listed_in(response)
        assert (object_id(c.o) in listed) == sees(who, kind, place), f"list shows {sorted(listed)[:20]}"
    if row.check and outcome == row.permitted():
        assert row.check(response, c), _describe(response)


# ---------------------------------------------------------------- every URL pattern has a row

FORMAT_SUFFIX = re.compile(r"\\\.\(\?P<format>|<drf_format_suffix:format>")
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>([^()]*)\)")
CONVERTER = re.compile(r"(?<!\?P)<(?:\w+:)?(\w+)>")
ALTERNATIVES = re.compile(r"[\w-]+(?:\|[\w-]+)+")


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def _templates(raw: str) -> list[str]:
    """``unions/(?P<pk>\\d+)/(?P<action>verify|suspend)/$`` → ``/unions/{pk}/verify/``, ``/unions/{pk}/suspend/``."""
    text = raw.replace("^", "").replace("$", "")
    text = CONVERTER.sub(r"{\1}", text)
    expansions = [text]
    for name, body in NAMED_GROUP.findall(text):
        group = f"(?P<{name}>{body})"
        if ALTERNATIVES.fullmatch(body):
            expansions = [t.replace(group, choice) for t in expansions for choice in body.split("|")]
        else:
            expansions = [t.replace(group, "{" + name + "}") for t in expansions]
    return ["/" + t for t in expansions]


def _methods(entry: URLPattern, template: str, probe: Client) -> set[str]:
    callback = entry.callback
    actions = getattr(callback, "actions", None)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if actions is not None:  # a DRF viewset route
        allowed = set(view_class.http_method_names) - {"head", "options"}  # DRF adds "head" to actions once used
        return {m.upper() for m in actions if m in allowed}
    if view_class is not None:  # APIView or a Django class-based view
        return {
            m.upper() for m in view_class.http_method_names if m not in ("head", "options") and hasattr(view_class, m)
        }
    # A function view: probe GET and POST as a signed-in user; 405 means it refuses the method.
    url = re.sub(r"\{(\w+)\}", lambda m: "x" if m.group(1) == "token" else "999999", template)
    return {m for m in ("GET", "POST") if getattr(probe, m.lower())(url).status_code != 405}


def test_every_url_pattern_has_a_row(world, db):
    probe = Client()
    probe.force_login(world.cast.province)
    declared = {row.key for row in ROWS}
    assert len(declared) == len(ROWS), "two rows for the same method and pattern"
    found: dict[tuple[str, str], str] = {}  # (method, template) → the raw pattern
    admin, plain, twins = set(), set(), set()
    for raw, namespace, entry in _walk(get_resolver().url_patterns):
        if FORMAT_SUFFIX.search(raw):
            twins.add(entry.name)
            continue
        plain.add(entry.name)
        if namespace == "admin":  # one decision for the whole admin: see the rows of /admin/
            admin.update(_templates(raw))
            continue
        for template in _templates(raw):
            found.update({(method, template): raw for method in _methods(entry, template, probe)})
    missing = sorted(set(found) - declared)
    gone = sorted(key for key in declared - set(found) if not (key[1].startswith("/admin/") and key[1] in admin))
    assert not missing, "add a row for: " + "; ".join(f"{m} {p} (pattern {found[m, p]!r})" for m, p in missing)
    assert not gone, "these rows match no URL pattern any more: " + "; ".join(f"{m} {p}" for m, p in gone)
    assert twins <= plain, f"format-suffix patterns without their plain pattern: {sorted(twins - plain)}"
