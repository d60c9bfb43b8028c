"""Deadline day, as locust users (run by ``bench/loadtest.py``, never on its own).

Who is on the system, from the plan ``bench/loadtest.py`` writes (``LOADTEST_PLAN``):
- 90 county clerks: their home page and evaluation page, their self-assessment, evidence uploads, and the
  submission of the self-assessment (once, when it is still a draft);
- 11 city clerks: the evaluation page, the submitted self-assessments of their counties, and approving them;
- province staff (two factors): the review queue, application pages, and approving the applications the
  plan found room for in the budget (money, slots and city quotas);
- 5 outside systems: OAuth2 client credentials, pulling allocations with the change-feed cursor every 10 s;
- report requests: a county report of the current round, followed until it is done.

People log in through the login page (and the code page for two factors), as browsers do; their writes go
through the REST API with the session and its CSRF token, which is what the pages' forms call too.
"""

from __future__ import annotations

import json
import os
import random
import re
import time

from locust import HttpUser, between, constant, events, task

PLAN = json.loads(open(os.environ["LOADTEST_PLAN"], encoding="utf-8").read())
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_taken: dict[str, int] = {}  # which plan entry each kind of user takes next


def _next(kind: str, entries: list):
    index = _taken.get(kind, 0)
    _taken[kind] = index + 1
    return entries[index % len(entries)]


class Person(HttpUser):
    abstract = True
    account: dict

    def on_start(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text).group(1)
        response = self.client.post(
            "/accounts/login/",
            data={"username": self.account["username"], "password": PLAN["password"], "csrfmiddlewaretoken": token},
            name="login",
        )
        if self.account.get("totp_secret"):
            from django_otp.oath import totp

            from unionfunds.core.otp import secret_key

            token = CSRF.search(response.text).group(1)
            code = f"{totp(secret_key(self.account['totp_secret'])):06d}"
            self.client.post(
                "/accounts/login/code/", data={"code": code, "csrfmiddlewaretoken": token}, name="login code"
            )
        self.headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + "/"}

    def api_post(self, url: str, name: str, **kwargs):
        return self.client.post(url, headers=self.headers, name=name, **kwargs)


class CountyClerk(Person):
    fixed_count = 90
    wait_time = between(5, 15)

    def on_start(self) -> None:
        self.account = _next("county", PLAN["counties"])
        super().on_start()
        self.submitted = self.account["status"] != "draft"

    @task(4)
    def home(self) -> None:
        self.client.get("/", name="home (county)")

    @task(3)
    def evaluation(self) -> None:
        self.client.get("/evaluation/", name="evaluation page (county)")

    @task(3)
    def assessment(self) -> None:
        self.client.get(f"/evaluation/assessments/{self.account['assessment']}/", name="self-assessment page")

    @task(2)
    def upload_evidence(self) -> None:
        if self.submitted:
            return
        page = self.client.get(f"/evaluation/assessments/{self.account['assessment']}/", name="self-assessment page")
        token = CSRF.search(page.text)
        self.client.post(
            f"/evaluation/assessments/{self.account['assessment']}/evidence/",
            data={"csrfmiddlewaretoken": token.group(1) if token else ""},
            files={"file": ("活动签到表.pdf", PDF, "application/pdf")},
            name="evidence upload",
        )

    @task(1)
    def submit(self) -> None:
        if self.submitted:
            return
        response = self.api_post(
            f"/api/v1/self-assessments/{self.account['assessment']}/submit/",
            name="self-assessment submit (API)",
            json={"narrative": "本县按计划使用专项经费，开展送清凉、技能培训等活动。"},
        )
        if response.status_code == 200:
            self.submitted = True
            PLAN.setdefault("submitted", []).append(self.account["assessment"])


class CityClerk(Person):
    fixed_count = 11
    wait_time = between(5, 15)

    def on_start(self) -> None:
        self.account = _next("city", PLAN["cities"])
        super().on_start()

    @task(3)
    def evaluation(self) -> None:
        self.client.get("/evaluation/", name="evaluation page (city)")

    @task(2)
    def review(self) -> None:
        listing = self.client.get(
            f"/api/v1/self-assessments/?round={PLAN['round']}&status=submitted", name="self-assessments (API)"
        )
        rows = listing.json().get("results", []) if listing.status_code == 200 else []
        if not rows:
            return
        row = random.choice(rows)
        self.client.get(f"/evaluation/assessments/{row['id']}/", name="self-assessment page (city)")
        self.api_post(f"/api/v1/self-assessments/{row['id']}/approve/", name="self-assessment approve (API)", json={})


class ProvinceStaff(Person):
    fixed_count = 2
    wait_time = between(3, 8)

    def on_start(self) -> None:
        self.account = _next("province", PLAN["province"])
        super().on_start()

    @task(4)
    def queue(self) -> None:
        self.client.get(f"/applications/?program={PLAN['program']}&status=reviewed", name="review queue")

    @task(3)
    def application(self) -> None:
        self.client.get(f"/applications/{random.choice(PLAN['browse'])}/", name="application page")

    @task(2)
    def approve(self) -> None:
        if not PLAN["approve"]:
            return
        application, amount = PLAN["approve"].pop()
        self.client.get(f"/applications/{application}/", name="application page")
        self.api_post(
            f"/api/v1/applications/{application}/approve/",
            name="application approve (API)",
            json={"approved_amount": amount, "comment": "经审核，同意按建议金额资助。"},
        )


class OutsideSystem(HttpUser):
    fixed_count = 5
    wait_time = constant(10)

    def on_start(self) -> None:
        self.client_account = _next("client", PLAN["clients"])
        self.cursor = ""
        self.token_at = 0.0

    def _token(self) -> None:
        response = self.client.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": "allocations:read"},
            auth=(self.client_account["client_id"], self.client_account["client_secret"]),
            name="oauth token",
        )
        self.auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
        self.token_at = time.monotonic()

    @task
    def pull(self) -> None:
        if time.monotonic() - self.token_at > 1800:
            self._token()
        while True:
            query = f"?cursor={self.cursor}&page_size=500" if self.cursor else "?page_size=500"
            response = self.client.get(f"/api/v1/allocations/{query}", headers=self.auth, name="allocations pull")
            if response.status_code != 200:
                return
            body = response.json()
            self.cursor = body.get("next_cursor") or self.cursor
            if not body.get("results"):
                return


class ReportRequester(Person):
    fixed_count = 1
    wait_time = between(20, 40)

    def on_start(self) -> None:
        self.account = PLAN["reporter"]
        super().on_start()

    @task
    def county_report(self) -> None:
        region = random.choice(PLAN["report_regions"])
        response = self.api_post(
            "/api/v1/reports/", name="report request", json={"kind": "county", "round": PLAN["round"], "region": region}
        )
        if response.status_code != 202:
            return
        job = response.json()["id"]
        events.request.fire(
            request_type="JOB", name="report requested", response_time=0, response_length=0, exception=None
        )
        for _ in range(120):
            time.sleep(2)
            status = self.client.get(f"/api/v1/reports/{job}/", name="report status").json().get("status")
            if status in ("done", "failed"):
                break
