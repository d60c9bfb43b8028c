"""``docs/benchmarks.md`` from the results of ``bench.run`` (the notes come from ``bench/notes.md``)."""

from __future__ import annotations

from pathlib import Path

NOTES = Path(__file__).resolve().parent / "notes.md"


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
        "## The budgets of SPEC §6",
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
    if NOTES.exists():
        lines += ["", NOTES.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"
