"""``make loadtest``: deadline day under load, against the production shape on this machine.

What runs: gunicorn with its configured workers (``gunicorn.conf.py``), one Celery worker, PostgreSQL and
Redis, ``DEBUG`` off, on a copy of the province-scale bench database (``uf_load``, made afresh from
``unionfunds_bench`` for every run, so every run starts from the same state and the bench data stays as
seeded). Loopback only. locust drives the users of ``bench/locustfile.py`` headless for ``--minutes``
(default 10). While it runs, the number of database connections is sampled every second.

What it writes: ``bench/loadtest.json`` and the "Deadline day under load" section of
``docs/benchmarks.md``: throughput, p50/p95 per kind of request, errors (the goal is none), report jobs
requested against finished (the goal is equal), and the connection peak.

    python -m bench.loadtest [--minutes 10] [--port 8765]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "loadtest.json"
WORK = ROOT / "var" / "loadtest"
PASSWORD = "Load-test-2026!"  # noqa: S105 — accounts of the throwaway load database only
TOTP_SECRETS = ("LOADTESTPROVINCA", "LOADTESTPROVINCB", "LOADTESTREPORTER")  # base32, 16 characters


def plan() -> dict:
    """Accounts, API clients and the work of the day, made in the load database (idempotent)."""
    from django.db.models import F

    from evaluation.models import EvaluationRound, SelfAssessment
    from grants.choices import ApplicationStatus
    from grants.models import Application
    from grants.selectors import program_budget_figures
    from members import services as members_services
    from members.choices import RegionLevel, Role
    from members.models import Region, User
    from unionfunds.core import otp

    def account(username: str, role: str, region: str) -> User:
        user = User.objects.filter(username=username).first()
        return user or members_services.user_create(username=username, role=role, password=PASSWORD, region_code=region)

    round_ = EvaluationRound.objects.select_related("program").order_by("-program__year", "-pk").first()
    if round_ is None:
        raise SystemExit("the bench database has no evaluation round: seed it with seed_demo --scale province")
    province_code = Region.objects.get(level=RegionLevel.PROVINCE).code
    provinces = []
    for index, secret in enumerate(TOTP_SECRETS):
        user = account(f"lt_province_{index}", Role.PROVINCE_STAFF, province_code)
        if not otp.has_device(user):
            otp.install(user, secret, recovery=False)
        provinces.append({"username": user.username, "totp_secret": secret})
    assessments = {
        a.county_id: a for a in SelfAssessment.objects.filter(round=round_).only("pk", "county_id", "status")
    }
    counties = [
        {
            "username": account(f"lt_county_{code}", Role.COUNTY_STAFF, code).username,
            "assessment": assessments[code].pk,
            "status": assessments[code].status,
        }
        for code in Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").values_list("code", flat=True)
    ]
    cities = [
        {"username": account(f"lt_city_{code}", Role.CITY_STAFF, code).username}
        for code in Region.objects.filter(level=RegionLevel.CITY).order_by("code").values_list("code", flat=True)
    ]
    clients = []
    run_tag = dt.datetime.now().strftime("%H%M%S")
    for index in range(5):
        # The secret is shown once and stored hashed: every run registers its own clients.
        client, secret = members_services.api_client_register(
            name=f"负载测试外部系统{index + 1}-{run_tag}",
            region_code=province_code,
            scopes=["allocations:read"],
            by=None,
        )
        clients.append({"client_id": client.application.client_id, "client_secret": secret})
    # The program under review and what the province can approve today without breaking a budget rule.
    program = round_.program
    reviewed = list(
        Application.objects.filter(program__year__gte=program.year, status=ApplicationStatus.REVIEWED)
        .select_related("program")
        .annotate(city=F("union__county__parent_id"))
        .order_by("-priority_score", "pk")
    )
    approvable = []
    if reviewed:
        target = reviewed[0].program
        figures = program_budget_figures(target)
        money = target.budget_total - figures["approved_total"]
        slots = target.target_count - figures["approved_count"]
        quotas = {q.city_id: q.count for q in target.city_quotas.all()}
        used = {city: f["count"] for city, f in figures["by_city"].items()}
        for application in (a for a in reviewed if a.program_id == target.pk):
            amount = min(application.requested_amount, target.max_grant)
            quota = quotas.get(application.city)
            if amount > money or slots <= 0 or (quota is not None and used.get(application.city, 0) >= quota):
                continue
            approvable.append([application.pk, f"{amount:.2f}"])
            money -= amount
            slots -= 1
            used[application.city] = used.get(application.city, 0) + 1
        program = target
    return {
        "password": PASSWORD,
        "round": round_.pk,
        "program": program.pk,
        "province": provinces[:2],
        "reporter": provinces[2],
        "counties": counties,
        "cities": cities,
        "clients": clients,
        "approve": approvable[:60],
        "browse": [a.pk for a in reviewed[:200]] or list(Application.objects.values_list("pk", flat=True)[:200]),
        "report_regions": [c for c in assessments if assessments[c].status != "draft"][:30] or list(assessments)[:30],
    }


def _connections(dbname: str, stop: threading.Event, peak: list[int]) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    while not stop.is_set():
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (dbname,))
            peak[0] = max(peak[0], cur.fetchone()[0])
        stop.wait(1)
    conn.close()


def _stats(prefix: Path) -> list[dict]:
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated" or row["Type"] == "JOB":
                continue
            rows.append(
                {
                    "kind": f"{row['Type']} {row['Name']}",
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50_ms": float(row["50%"] or 0),
                    "p95_ms": float(row["95%"] or 0),
                    "max_ms": float(row["Max Response Time"] or 0),
                    "rps": round(float(row["Requests/s"] or 0), 2),
                }
            )
    return rows


def _failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [
            {"kind": f"{r['Method']} {r['Name']}", "error": r["Error"][:200], "count": int(r["Occurrences"])}
            for r in csv.DictReader(handle)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionfunds.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from evaluation.models import ReportJob

    dbname = settings.DATABASES["default"]["NAME"]
    WORK.mkdir(parents=True, exist_ok=True)
    started_at = dt.datetime.now(dt.UTC)
    the_plan = plan()
    plan_file = WORK / "plan.json"
    plan_file.write_text(json.dumps(the_plan, ensure_ascii=False), encoding="utf-8")
    connection.close()
    env = {**os.environ, "LOADTEST_PLAN": str(plan_file)}
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "unionfunds.wsgi", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{args.port}"],
        cwd=ROOT,
        env=env,
        stdout=open(WORK / "gunicorn.log", "w"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "unionfunds", "worker", "--loglevel=WARNING", "--prefetch-multiplier=1"],
        cwd=ROOT,
        env=env,
        stdout=open(WORK / "worker.log", "w"),
        stderr=subprocess.STDOUT,
    )
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_connections, args=(dbname, stop, peak), daemon=True)
    try:
        time.sleep(4)
        sampler.start()
        prefix = WORK / "locust"
        users = 90 + 11 + 2 + 5 + 1
        subprocess.run(
            [
                str(ROOT / ".venv/bin/locust"),
                "-f",
                str(ROOT / "bench/locustfile.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{args.port}",
                "-u",
                str(users),
                "-r",
                "2",  # people arrive over a minute, logging in as they come
                "-t",
                f"{int(args.minutes * 60)}s",
                "--stop-timeout",
                "60",
                "--csv",
                str(prefix),
                "--only-summary",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        # Reports still being made when the users stop: give the worker a minute to finish them.
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and ReportJob.objects.filter(requested_at__gte=started_at, status__in=("queued", "running")).exists()
        ):
            time.sleep(2)
    finally:
        stop.set()
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    jobs = ReportJob.objects.filter(requested_at__gte=started_at)
    rows = _stats(prefix)
    total = sum(r["requests"] for r in rows)
    results = {
        "generated_at": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "minutes": args.minutes,
        "users": {"counties": 90, "cities": 11, "province": 2, "outside_systems": 5, "reports": 1},
        "gunicorn_workers": _gunicorn_workers(),
        "requests": total,
        "throughput_rps": round(total / (args.minutes * 60), 1),
        "failures": sum(r["failures"] for r in rows),
        "kinds": rows,
        "failure_list": _failures(prefix),
        "reports": {
            "requested": jobs.count(),
            "finished": jobs.filter(status="done").count(),
            "failed": jobs.filter(status="failed").count(),
        },
        "approvals_planned": len(the_plan["approve"]),
        "db_connections_peak": peak[0],
        "max_connections": _max_connections(),
        "cpus": os.cpu_count(),
    }
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _rewrite_docs()
    print(
        f"{total} requests, {results['throughput_rps']} req/s, {results['failures']} failures, reports "
        f"{results['reports']['finished']}/{results['reports']['requested']}, connection peak {peak[0]}"
    )
    return 0 if results["failures"] == 0 and results["reports"]["requested"] == results["reports"]["finished"] else 1


def _gunicorn_workers() -> int:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(getattr(module, "workers", 1))


def _max_connections() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW max_connections")
        return int(cur.fetchone()[0])


def _rewrite_docs() -> None:
    """docs/benchmarks.md from the last bench run and this load run."""
    from bench.report import write_markdown
    from bench.run import DOCS
    from bench.run import RESULTS as BENCH_RESULTS

    if BENCH_RESULTS.exists():
        DOCS.write_text(write_markdown(json.loads(BENCH_RESULTS.read_text(encoding="utf-8"))), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
