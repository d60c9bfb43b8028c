"""``make bench``: the performance budgets (docs/benchmarks.md), measured at province scale on PostgreSQL.

Not a test: it measures and writes what it found to ``bench/results.json`` (for machines) and
``docs/benchmarks.md`` (for people), each budget with its figure, its SQL query count and the budget it
is held against. It needs the province-scale data of ``seed_demo --scale province`` in the database of
``DATABASE_URL`` (``make bench`` seeds a database of its own once) and, for the worker's memory, Redis.

Requests go through Django's test client: the whole middleware stack, URL routing, authentication,
views, templates and serialisation, without a network hop. Each is warmed up, then timed ``--runs``
times (at least 100); p50 and p95 are of those runs. Run it on a quiet machine: the figures are wall
time on whatever else the machine is doing.

    python -m bench.run [--runs 200] [--skip-worker]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOCS = ROOT / "docs" / "benchmarks.md"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionfunds.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()


def summary(times_ms: list[float]) -> dict:
    ordered = sorted(times_ms)
    p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94] if len(ordered) > 1 else ordered[0]
    return {
        "runs": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def timed(fn, *, runs: int, warmup: int = 5) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def queries_of(fn) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured), [q["sql"] for q in captured.captured_queries]


class Bench:
    def __init__(self, runs: int):

        from members.models import User

        self.runs = runs
        self.users = {name: User.objects.get(username=name) for name in ("province", "auditor", "xihu")}
        self.clients: dict = {}
        for name, user in self.users.items():
            self.client_for(name, user)
        self.results: dict = {"budgets": [], "other": {}, "explain": []}

    def client_for(self, name: str, user):
        """A logged-in test client for ``user`` (kept, so a session is made once)."""
        from django.test import Client

        if name not in self.clients:
            client = Client(raise_request_exception=True)
            client.force_login(user)
            self.clients[name] = client
        return self.clients[name]

    def get(self, who: str, url: str, **headers):
        response = self.clients[who].get(url, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} as {who}: {response.status_code}")
        return response

    def budget(self, name: str, what: str, figure: dict, budget: dict, queries: int | None = None, **extra):
        met = all(figure[key] <= limit for key, limit in budget.items())
        row = {"name": name, "what": what, "figure": figure, "queries": queries, "budget": budget, "met": met, **extra}
        self.results["budgets"].append(row)
        shown = ", ".join(f"{k} {figure[k]}" for k in budget)
        if "p50_ms" in figure:
            shown += f" (p50 {figure['p50_ms']} ms)"
        print(
            f"{'ok ' if met else 'OVER'} {name}: {shown} (budget {budget}){f', {queries} queries' if queries else ''}"
        )
        return row

    # ------------------------------------------------------------ requests

    def allocations_api(self) -> None:
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=self.users["auditor"])
        auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        url = "/api/v1/allocations/?page_size=100"
        self.get("auditor", url, **auth)
        figure = timed(lambda: self.get("auditor", url, **auth), runs=self.runs)
        count, sql = queries_of(lambda: self.get("auditor", url, **auth))
        by_size = {}
        for size in (1, 10, 100, 500):
            by_size[size] = queries_of(
                lambda s=size: self.get("auditor", f"/api/v1/allocations/?page_size={s}", **auth)
            )[0]
        constant = len(set(by_size.values())) == 1
        self.budget(
            "allocations_api_page_100",
            "GET /api/v1/allocations/?page_size=100 as the province auditor (token), 100 rows",
            figure,
            {"p95_ms": 100},
            queries=count,
            queries_by_page_size=by_size,
            constant_queries=constant,
        )
        print(f"     queries by page size {by_size}: {'constant' if constant else 'NOT constant'}")
        self.feed_page(auth)
        filtered = "/api/v1/allocations/?page_size=100&year=2023&city=330100&ordering=-approved_amount"
        self.results["other"]["allocations_api_filtered"] = {
            "what": f"GET {filtered}",
            **timed(lambda: self.get("auditor", filtered, **auth), runs=self.runs),
        }
        self.results["other"]["allocations_api_csv_all"] = {
            "what": "GET /api/v1/allocations/?format=csv (every allocation of the province)",
            **timed(lambda: self.get("auditor", "/api/v1/allocations/?format=csv", **auth), runs=20, warmup=2),
        }
        self.explain_sql("allocations API, default order (start of the change feed)", sql)
        for label, params in [
            ("allocations API, program + status", "program={program}&status=spent"),
            ("allocations API, status", "status=disbursed"),
            ("allocations API, year + city + county", "year=2023&city=330100&county=330106"),
            ("allocations API, union", "union={union}"),
            ("allocations API, amount range", "min_amount=50000&max_amount=60000"),
            ("allocations API, updated_after", "updated_after=2026-11-01T00:00:00%2B08:00"),
            ("allocations API, ordering -approved_amount", "ordering=-approved_amount"),
        ]:
            self.explain_sql(label, self._sql_of("auditor", f"/api/v1/allocations/?{self._fill(params)}", **auth))

    def feed_page(self, auth: dict) -> None:
        """A page of the change feed from the middle: the cursor the first page of 100 answered."""
        first = self.get("auditor", "/api/v1/allocations/?page_size=100", **auth).json()
        if not first["next"]:
            raise RuntimeError("the feed has fewer than 100 allocations: nothing to page through")
        url = f"/api/v1/allocations/?page_size=100&cursor={first['next_cursor']}"
        rows = len(self.get("auditor", url, **auth).json()["results"])
        figure = timed(lambda: self.get("auditor", url, **auth), runs=self.runs)
        count, sql = queries_of(lambda: self.get("auditor", url, **auth))
        by_size = {
            size: queries_of(
                lambda s=size: self.get(
                    "auditor", f"/api/v1/allocations/?page_size={s}&cursor={first['next_cursor']}", **auth
                )
            )[0]
            for size in (1, 10, 100, 500)
        }
        constant = len(set(by_size.values())) == 1
        self.budget(
            "allocations_api_feed_page_100",
            f"GET /api/v1/allocations/?page_size=100&cursor=… as the province auditor (token): the second page of "
            f"the change feed ({rows} rows), with the reader's horizon",
            figure,
            {"p95_ms": 100},
            queries=count,
            queries_by_page_size=by_size,
            constant_queries=constant,
        )
        print(f"     queries by page size {by_size}: {'constant' if constant else 'NOT constant'}")
        self.explain_sql("allocations API, change feed from a cursor", sql)

    def bare_ratio(self) -> None:
        """The allocations endpoint against a bare view returning the same 100 rows (session auth for both)."""
        from django.test.utils import override_settings

        with override_settings(ROOT_URLCONF="bench.urls"):
            api = timed(lambda: self.get("auditor", "/api/v1/allocations/?page_size=100"), runs=self.runs)
            bare = timed(lambda: self.get("auditor", "/bench/bare-allocations/"), runs=self.runs)
            same = [r["id"] for r in self.get("auditor", "/api/v1/allocations/?page_size=100").json()["results"]] == [
                r["id"] for r in self.get("auditor", "/bench/bare-allocations/").json()
            ]
        ratio = round(bare["p50_ms"] / api["p50_ms"], 2)
        self.results["ratio"] = {
            "what": "p50 of a bare Django view (JsonResponse(list(qs.values(...)))) ÷ p50 of GET /api/v1/allocations/"
            "?page_size=100, both with session authentication, the same 100 rows",
            "api": api,
            "bare": bare,
            "same_rows": same,
            "ratio": ratio,
            "goal": 0.5,
            "met": ratio >= 0.5,
        }
        print(
            f"{'ok ' if ratio >= 0.5 else 'OVER'} bare/API ratio {ratio} "
            f"(api p50 {api['p50_ms']}, bare {bare['p50_ms']})"
        )

    def review_queue(self) -> None:
        from grants.models import Application, Program

        url = "/applications/"
        current = Program.objects.filter(owner_id="330000").order_by("-year", "id").first()
        rows = Application.objects.filter(program=current, status="reviewed").count()
        figure = timed(lambda: self.get("province", url), runs=self.runs)
        count, sql = queries_of(lambda: self.get("province", url))
        self.budget(
            "review_queue_page",
            f"GET /applications/ as province staff: this year's programme, status reviewed ({rows} applications, "
            "50 a page, budget meter and status tabs)",
            figure,
            {"p95_ms": 200},
            queries=count,
        )
        self.explain_sql("review queue, default (program + reviewed, by priority)", sql)
        for label, params in [
            ("review queue, city + sort by amount", "city=330100&sort=amount"),
            ("review queue, county + eligible", "county=330106&eligible=yes&status="),
            ("review queue, org form + date", "org_form=joint_union&sort=date"),
        ]:
            self.explain_sql(label, self._sql_of("province", f"{url}?{params}"))
        other = f"{url}?city=330100&sort=amount&page=2"
        self.results["other"]["review_queue_filtered"] = {
            "what": f"GET {other}",
            **timed(lambda: self.get("province", other), runs=self.runs),
        }
        for who, page in [("province", "/"), ("province", "/unions/"), ("province", "/evaluation/"), ("xihu", "/")]:
            self.results["other"][f"page {page} as {who}"] = {
                "what": f"GET {page} as {who}",
                "queries": queries_of(lambda w=who, p=page: self.get(w, p))[0],
                **timed(lambda w=who, p=page: self.get(w, p), runs=max(20, self.runs // 5)),
            }

    # ------------------------------------------------------------ services

    def roster_import(self) -> None:
        from django.db import transaction

        from members import fakes, services
        from members.choices import OrgForm, ParentLevel
        from members.models import Member

        rng = random.Random("bench-roster")
        taken = set(Member.objects.values_list("id_number_hash", flat=True))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["name", "id_number", "gender", "phone", "group", "platform", "joined_on"])
        rows = 0
        while rows < 100_000:
            number = fakes.id_number(rng)
            digest = services.hash_id_number(number)
            if digest in taken:
                continue
            taken.add(digest)
            writer.writerow(
                [fakes.person_name(rng), number, "", fakes.phone(rng), "food_delivery", "美团", "2025-03-01"]
            )
            rows += 1
        content = out.getvalue().encode()
        county = self.users["xihu"]
        runs = []
        for attempt in range(2):
            with transaction.atomic():
                union = services.union_register(
                    data={
                        "name": f"基准测试外卖骑手联合工会{attempt}",
                        "credit_code": fakes.credit_code(random.Random(f"bench-{attempt}"), "330106"),
                        "org_form": OrgForm.JOINT_UNION,
                        "county": "330106",
                        "parent_level": ParentLevel.TOWNSHIP,
                        "covered_groups": ["food_delivery"],
                        "chair_name": "王强",
                        "chair_elected_on": dt.date(2025, 1, 10),
                        "chair_term_years": 5,
                        "committee_size": 7,
                        "founded_on": dt.date(2024, 12, 1),
                    },
                    by=county,
                )
                started = time.perf_counter()
                result = services.roster_import(union=union, filename="roster.csv", content=content, by=county)
                runs.append(time.perf_counter() - started)
                if not result.ok or result.created != 100_000:
                    raise RuntimeError(f"roster import refused: {result.errors[:3]}")
                transaction.set_rollback(True)  # leave the bench database as it was
        self.budget(
            "roster_import_100k",
            f"services.roster_import of a 100,000-row CSV ({len(content) / 1e6:.1f} MB) into a new union: parse, "
            "validate every row, check each person against 823,000 members, write (best of 2, rolled back)",
            {"seconds": round(min(runs), 2), "runs": [round(r, 2) for r in runs]},
            {"seconds": 30},
        )

    def eligibility(self) -> None:
        from grants.eligibility import evaluate_many
        from grants.models import Application, Program
        from unionfunds.core import clock

        program = Program.objects.filter(owner_id="330000").order_by("-year").first()

        def run():
            applications = list(
                Application.objects.filter(program=program).select_related("program", "union").order_by("id")[:1000]
            )
            assert len(applications) == 1000
            return evaluate_many(applications, on=clock.today())

        figure = timed(run, runs=30, warmup=2)
        count, _sql = queries_of(run)
        self.budget(
            "eligibility_1000",
            "grants.eligibility.evaluate_many over 1,000 applications of this year's programme, loading included",
            {"seconds": round(figure["p95_ms"] / 1000, 3), "p50_ms": figure["p50_ms"], "p95_ms": figure["p95_ms"]},
            {"seconds": 2},
            queries=count,
        )

    def reports(self) -> None:
        from django.template.loader import render_to_string

        from evaluation import reports
        from evaluation.choices import ReportKind
        from evaluation.models import EvaluationRound, ReportJob
        from members.models import Region

        round_ = EvaluationRound.objects.get(program__owner_id="330000", program__year=2022)
        for kind, region, runs, limit in [
            (ReportKind.PROVINCE, "330000", 5, 15),
            (ReportKind.COUNTY, "330106", 10, 3),
        ]:
            job = ReportJob(
                kind=kind, round=round_, region=Region.objects.get(code=region), requested_by=self.users["province"]
            )
            parts = {"context": [], "html": [], "pdf": []}
            pages = size = 0
            for attempt in range(runs + 1):
                t0 = time.perf_counter()
                context = reports.report_context(job)
                t1 = time.perf_counter()
                html = render_to_string(reports.TEMPLATES[kind], context)
                t2 = time.perf_counter()
                rendered = reports.render_pdf(html)
                t3 = time.perf_counter()
                if attempt:  # the first run loads fonts and templates
                    parts["context"].append(t1 - t0)
                    parts["html"].append(t2 - t1)
                    parts["pdf"].append(t3 - t2)
                pages, size = rendered.pages, len(rendered.content)
            totals = [sum(p) for p in zip(*parts.values(), strict=True)]
            figure = summary([t * 1000 for t in totals])
            self.budget(
                f"{kind}_report_pdf",
                f"{kind} report of the 2022 round ({region}): figures, template, WeasyPrint; {pages} pages, "
                f"{size / 1024:.0f} KB",
                {
                    "seconds": round(figure["p95_ms"] / 1000, 2),
                    "p50_ms": figure["p50_ms"],
                    "p95_ms": figure["p95_ms"],
                    "context_ms": round(statistics.median(parts["context"]) * 1000, 1),
                    "html_ms": round(statistics.median(parts["html"]) * 1000, 1),
                    "pdf_ms": round(statistics.median(parts["pdf"]) * 1000, 1),
                    "pages": pages,
                },
                {"seconds": limit},
                queries=queries_of(lambda j=job: reports.report_context(j))[0],
            )

    def worker_memory(self) -> None:
        """A real Celery worker (solo pool) renders the province report; its peak RSS is read from /proc."""
        from django.conf import settings

        from evaluation import services
        from evaluation.choices import JobStatus
        from evaluation.models import EvaluationRound, ReportJob

        if not settings.REDIS_URL:
            self.results["other"]["worker_peak_memory"] = {"skipped": "no REDIS_URL"}
            print("skip worker memory: no REDIS_URL")
            return
        log = open(ROOT / "var" / "bench-worker.log", "w")  # closed in the finally below
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "unionfunds", "worker", "--pool=solo",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--prefetch-multiplier=1",
             "-n", f"bench-{os.getpid()}@%h"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy(),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "ready" not in (ROOT / "var" / "bench-worker.log").read_text() and time.monotonic() < deadline:
                time.sleep(0.5)
            idle = _proc_status(worker.pid)
            round_ = EvaluationRound.objects.get(program__owner_id="330000", program__year=2022)
            job, _created = services.report_request(
                kind="province", round_=round_, region="330000", by=self.users["province"]
            )
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                job = ReportJob.objects.get(pk=job.pk)
                if job.status in (JobStatus.DONE, JobStatus.FAILED):
                    break
                time.sleep(0.2)
            if job.status != JobStatus.DONE:
                raise RuntimeError(f"province report job {job.pk}: {job.status} {job.error}")
            done = _proc_status(worker.pid)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
        wall = (job.finished_at - job.started_at).total_seconds()
        self.results["other"]["worker_peak_memory"] = {
            "what": "peak resident memory (VmHWM) of a Celery worker (solo pool) rendering the province report",
            "idle_peak_mb": idle["VmHWM"],
            "peak_mb": done["VmHWM"],
            "job_seconds": round(wall, 2),
        }
        print(f"     worker peak {done['VmHWM']} MB (idle {idle['VmHWM']} MB), province report job {wall:.1f} s")

    # ------------------------------------------------------------ plans

    def _fill(self, params: str) -> str:
        from grants.models import Allocation

        sample = Allocation.objects.order_by("id").first()
        return params.format(program=sample.program_id, union=sample.union_id)

    def _sql_of(self, who: str, url: str, **headers) -> list[str]:
        return queries_of(lambda: self.get(who, url, **headers))[1]

    def explain_sql(self, label: str, statements: list[str]) -> None:
        """EXPLAIN the main list query a request ran (the one with a LIMIT on the listed table)."""
        from django.db import connection

        main = [s for s in statements if "LIMIT" in s and ("grants_allocation" in s or "grants_application" in s)]
        if not main:
            return
        sql = max(main, key=len)
        plans = {}
        with connection.cursor() as cursor:
            for mode, setting in (("default", "on"), ("index_only", "off")):
                cursor.execute(f"SET enable_seqscan = {setting}")
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) {sql}")
                plans[mode] = [row[0] for row in cursor.fetchall()]
            cursor.execute("SET enable_seqscan = on")
        used = sorted({_index_name(line) for line in plans["index_only"] if _index_name(line)})
        scans = sorted({line.strip().split(" on ")[-1].split()[0] for line in plans["default"] if "Seq Scan" in line})
        self.results["explain"].append(
            {
                "label": label,
                "sql": sql[:2000],
                "plan": plans["default"],
                "seq_scans_by_default": scans,
                "indexes_when_seqscan_off": used,
                "execution_ms": next(
                    (line.split(":")[1].strip() for line in plans["default"] if "Execution" in line), ""
                ),
            }
        )


def _index_name(line: str) -> str | None:
    for marker in (
        "Index Scan using ",
        "Index Scan Backward using ",
        "Index Only Scan using ",
        "Index Only Scan Backward using ",
        "Bitmap Index Scan on ",
    ):
        if marker in line:
            return line.split(marker)[1].split()[0]
    return None


def _proc_status(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def data_figures() -> dict:
    from django.db import connection

    from evaluation.models import SurveyResponse
    from grants.models import Allocation, Application, Disbursement, Expenditure
    from members.models import Member, Region, Union
    from unionfunds.core.models import AuditEvent

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return {
        "postgresql": version,
        "regions": Region.objects.count(),
        "unions": Union.objects.count(),
        "active_members": Member.objects.filter(left_on__isnull=True).count(),
        "members_rows": Member.objects.count(),
        "applications": Application.objects.count(),
        "allocations": Allocation.objects.count(),
        "tranches": Disbursement.objects.count(),
        "expenditures": Expenditure.objects.count(),
        "survey_responses": SurveyResponse.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per request (at least 100)")
    parser.add_argument("--skip-worker", action="store_true", help="do not start a Celery worker")
    parser.add_argument("--page-runs", type=int, default=40, help="timed runs per page of the page sweep")
    parser.add_argument("--skip-pages", action="store_true", help="do not sweep every page and API list")
    args = parser.parse_args(argv)
    if args.runs < 100:
        parser.error("--runs must be at least 100 (p95 over fewer runs says little)")
    setup()
    from django.conf import settings
    from django.db import connection

    from bench.report import write_markdown
    from unionfunds.core.models import AuditEvent

    if connection.vendor != "postgresql":
        print("make bench measures PostgreSQL: set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    if not AuditEvent.objects.filter(action="seed.province").exists():
        print("no province-scale data here: run `manage.py seed_demo --scale province` first", file=sys.stderr)
        return 2
    if settings.DEBUG:
        print("warning: DEBUG is on; figures include Django's debug overhead", file=sys.stderr)
    bench = Bench(args.runs)
    started = time.monotonic()
    bench.allocations_api()
    bench.bare_ratio()
    bench.review_queue()
    bench.eligibility()
    bench.roster_import()
    bench.reports()
    if not args.skip_pages:
        from bench.pages import sweep

        sweep(bench, runs=args.page_runs)
    if not args.skip_worker:
        bench.worker_memory()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    results = {
        "generated_at": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "commit": commit.strip(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "debug": settings.DEBUG,
        },
        "data": data_figures(),
        "seconds": round(time.monotonic() - started, 1),
        **bench.results,
    }
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    DOCS.write_text(write_markdown(results), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)} and {DOCS.relative_to(ROOT)} in {results['seconds']} s")
    met = all(b["met"] for b in results["budgets"]) and results["ratio"]["met"]
    met = met and all(row["met"] for row in results.get("pages", {}).get("rows", []))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
