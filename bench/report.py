"""``docs/benchmarks.md`` from the results of ``bench.run`` (the notes come from ``bench/notes.md``)."""

from __future__ import annotations

from pathlib import Path

NOTES = Path(__file__).resolve().parent / "notes.md"
LOADTEST = Path(__file__).resolve().parent / "loadtest.json"


def loadtest_section(run: dict) -> list[str]:
    """The "deadline day under load" section, from ``bench/loadtest.json`` (``make loadtest``)."""
    users = run["users"]
    reports = run["reports"]
    lines = [
        "",
        "## Deadline day under load (`make loadtest`)",
        "",
        f"Run of {run['generated_at']} at commit `{run['commit']}` on {run['cpus']} CPUs: locust, headless, "
        f"{run['minutes']:g} minutes against gunicorn ({run['gunicorn_workers']} workers), one Celery worker, "
        f"PostgreSQL and Redis on this machine, DEBUG off, a fresh copy of the province-scale database. Users: "
        f"{users['counties']} county clerks, {users['cities']} city clerks, {users['province']} province staff, "
        f"{users['outside_systems']} outside systems pulling every 10 s, {users['reports']} report requester.",
        "",
        f"- **{run['requests']:,} requests, {run['throughput_rps']} per second**; "
        f"**{run['failures']} errors** (goal: 0) {'✅' if run['failures'] == 0 else '❌'}",
        f"- report jobs: {reports['requested']} requested, **{reports['finished']} finished**, {reports['failed']} "
        f"failed (goal: all finished) {'✅' if reports['requested'] == reports['finished'] else '❌'}",
        f"- database connections: peak **{run['db_connections_peak']}** of {run['max_connections']} allowed",
        f"- approvals the plan found room for: {run['approvals_planned']}",
        "",
        "| request | count | errors | req/s | p50 | p95 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sorted(run["kinds"], key=lambda r: -r["requests"]):
        lines.append(
            f"| {row['kind']} | {row['requests']:,} | {row['failures']} | {row['rps']} | {row['p50_ms']:g} ms | "
            f"**{row['p95_ms']:g} ms** | {row['max_ms']:g} ms |"
        )
    for failure in run["failure_list"]:
        lines.append(f"\nError: {failure['count']} × {failure['kind']}: {failure['error']}")
    return lines


def _figure(row: dict) -> str:
    f = row["figure"]
    if "p95_ms" in f and "seconds" not in f:
        return f"p50 {f['p50_ms']} ms · p95 **{f['p95_ms']} ms** · max {f['max_ms']} ms ({f['runs']} runs)"
    if "runs" in f and isinstance(f["runs"], list):
        return f"**{f['seconds']} s** (runs: {', '.join(f'{r} s' for r in f['runs'])})"
    parts = [f"**{f['seconds']} s**"]
    if "p50_ms" in f:
        parts.append(f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms")
    if "pdf_ms" in f:
        parts.append(f"figures {f['context_ms']} ms + template {f['html_ms']} ms + WeasyPrint {f['pdf_ms']} ms")
    if "pages" in f:
        parts.append(f"{f['pages']} pages")
    return " · ".join(parts)


def _budget(row: dict) -> str:
    def one(key: str, value) -> str:
        return f"{key.removesuffix('_ms')} ≤ {value} ms" if key.endswith("_ms") else f"≤ {value} s"

    return ", ".join(one(key, value) for key, value in row["budget"].items())


def write_markdown(results: dict) -> str:
    data, machine = results["data"], results["machine"]
    lines = [
        "# Benchmarks at province scale",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand — the notes at the end come from "
        "`bench/notes.md`. Machine-readable figures: `bench/results.json`.",
        "",
        f"Run of {results['generated_at']} at commit `{results['commit']}` on {machine['cpus']} CPUs, Python "
        f"{machine['python']}, PostgreSQL {data['postgresql']}{', DEBUG on' if machine['debug'] else ''}; "
        f"the whole run took {results['seconds']} s.",
        "",
        "**Data** (`seed_demo --scale province`): "
        f"{data['regions']} regions, {data['unions']:,} unions, {data['active_members']:,} active members "
        f"({data['members_rows']:,} roster rows), {data['applications']:,} applications, "
        f"{data['allocations']:,} allocations, {data['tranches']:,} tranches, {data['expenditures']:,} "
        f"expenditures, {data['survey_responses']:,} survey answers, {data['audit_events']:,} audit events.",
        "",
        "## The performance budgets",
        "",
        "| budget | what is measured | figure | SQL queries | held against | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["budgets"]:
        queries = row["queries"] if row["queries"] is not None else "—"
        lines.append(
            f"| `{row['name']}` | {row['what']} | {_figure(row)} | {queries} | {_budget(row)} | "
            f"{'✅' if row['met'] else '❌'} |"
        )
    for name, label in (
        ("allocations_api_page_100", "the allocations API"),
        ("allocations_api_feed_page_100", "the allocations API read from a cursor"),
    ):
        api = next((b for b in results["budgets"] if b["name"] == name), None)
        if api:
            sizes = ", ".join(f"{size} rows → {n}" for size, n in api["queries_by_page_size"].items())
            lines += [
                "",
                f"**Constant query count** of {label} whatever the page size: {sizes} "
                f"({'constant' if api['constant_queries'] else 'NOT constant'}).",
            ]
    ratio = results.get("ratio")
    if ratio:
        lines += [
            "",
            f"**Against a bare Django view** ({ratio['what']}): API p50 {ratio['api']['p50_ms']} ms, p95 "
            f"{ratio['api']['p95_ms']} ms; bare p50 {ratio['bare']['p50_ms']} ms, p95 {ratio['bare']['p95_ms']} ms; "
            f"ratio **{ratio['ratio']}** (goal ≥ {ratio['goal']}) {'✅' if ratio['met'] else '❌'}; same rows: "
            f"{'yes' if ratio['same_rows'] else 'NO'}.",
        ]
    pages = results.get("pages")
    if pages:
        over = [row for row in pages["rows"] if not row["met"]]
        lines += [
            "",
            f"## Every page and every API list, as every role (p95 ≤ {pages['budget_ms']:g} ms)",
            "",
            f"Derived from the URL configuration (`bench/pages.py`): each GET page and API list route, filled "
            f"with an object the role may see, {pages['runs']} timed runs each. "
            f"{len(pages['rows'])} measured, {len(over)} over the budget. Left out: "
            + (", ".join(f"{n} × {reason}" for reason, n in sorted(pages["left_out"].items())) or "none")
            + ".",
            "",
            "| role | request | p50 | p95 | max | SQL queries | met |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in sorted(pages["rows"], key=lambda r: (r["role"], r["url"])):
            f = row["figure"]
            lines.append(
                f"| {row['role']} | `{row['url']}` | {f['p50_ms']} ms | **{f['p95_ms']} ms** | {f['max_ms']} ms | "
                f"{row['queries']} | {'✅' if row['met'] else '❌'} |"
            )
    lines += ["", "## Other figures", "", "| what | figure | SQL queries |", "|---|---|---|"]
    for key, row in results["other"].items():
        if "skipped" in row:
            lines.append(f"| {key} | skipped: {row['skipped']} | — |")
        elif "peak_mb" in row:
            lines.append(
                f"| {row['what']} | **{row['peak_mb']} MB** (idle worker {row['idle_peak_mb']} MB); the job took "
                f"{row['job_seconds']} s | — |"
            )
        else:
            lines.append(
                f"| {row['what']} | p50 {row['p50_ms']} ms · p95 {row['p95_ms']} ms ({row['runs']} runs) | "
                f"{row.get('queries', '—')} |"
            )
    lines += [
        "",
        "## Query plans (EXPLAIN ANALYZE at province scale)",
        "",
        "The main list query of each request, as the page or endpoint ran it. *Default* is the plan PostgreSQL "
        "chose; *with seq scans off* shows which indexes serve the filter when the table is too large to scan.",
        "",
        "| request | execution | sequential scans (default plan) | indexes (seq scans off) |",
        "|---|---|---|---|",
    ]
    for plan in results["explain"]:
        lines.append(
            f"| {plan['label']} | {plan['execution_ms']} | {', '.join(plan['seq_scans_by_default']) or '—'} | "
            f"{', '.join(f'`{i}`' for i in plan['indexes_when_seqscan_off']) or '—'} |"
        )
    if LOADTEST.exists():
        import json

        lines += loadtest_section(json.loads(LOADTEST.read_text(encoding="utf-8")))
    if NOTES.exists():
        lines += ["", NOTES.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"
