"""Every page and every API list, as every role, against the page budget (p95 ≤ 100 ms at province scale).

The sweep is derived from the URL configuration, not listed by hand, so a page added later is measured
without anyone remembering to add it: every GET route of the browser apps and every list route of the
API router is tried as each demo role. Routes with parameters are filled with an object the role may
see (its first union, application, allocation, programme, round, self-assessment); a route the role may
not use (403/404/405) or that only redirects is left out for that role, and the reason is counted. Routes
that are not pages (downloads, the public survey, the API's schema, the admin) are named in ``SKIP``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

PAGE_BUDGET_MS = 100.0
# Not pages a person waits on in daily work, or not GET pages at all: files and PDFs (their own budgets),
# the public survey (token), the admin and the API's own documentation, authentication endpoints.
SKIP_PREFIXES = (
    "admin/",
    "api/schema/",
    "api/docs/",
    "api/v1/auth/",
    "o/",
    "i18n/",
    "healthz/",
    "accounts/login",
    "accounts/logout",
    "s/",
)
SKIP_SUFFIXES = ("download/", "template/", ".pdf", "paper/", "/print/")
ROLES = ("province", "auditor", "hangzhou", "xihu", "union_xixi")


@dataclass
class Route:
    path: str  # with <name> placeholders
    names: tuple[str, ...]  # the parameters to fill
    api: bool


def _walk(patterns, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry))
    return found


def routes() -> list[Route]:
    """The GET routes worth a budget: browser pages and the API's list routes (not detail or action)."""
    import re

    out: dict[str, Route] = {}
    for raw, pattern in _walk(get_resolver().url_patterns):
        path = raw.replace("^", "").replace("$", "").replace("\\Z", "")
        if "(?P<format>" in path or path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
            continue
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", path)
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", path)
        if any(ch in path for ch in "()[]?*+\\|"):
            continue
        api = path.startswith("api/v1/")
        names = tuple(re.findall(r"<(\w+)>", path))
        if (path and not path.endswith("/")) or "action" in names:
            continue  # the router's suffix-less twin, or a POST-only workflow action
        callback = getattr(pattern, "callback", None)
        actions = getattr(callback, "actions", None)
        if api and (not actions or actions.get("get") != "list"):
            continue  # API: lists only (details are single-row reads)
        out[path] = Route(path=path, names=names, api=api)
    return sorted(out.values(), key=lambda r: r.path)


def samples(user) -> dict[str, object]:
    """One object of each kind the user may see, through the same scoped selectors the pages use."""
    from evaluation import selectors as evaluation_selectors
    from grants import selectors as grants_selectors
    from members.models import Union

    return {
        "union": Union.objects.for_user(user).order_by("pk").first(),
        "application": grants_selectors.applications_for(user).order_by("-pk").first(),
        "allocation": grants_selectors.allocations_for(user).order_by("-pk").first(),
        "program": grants_selectors.programs_for(user).order_by("-year", "pk").first(),
        "round": evaluation_selectors.rounds(user).order_by("-pk").first(),
        "assessment": evaluation_selectors.assessments(user).order_by("-round_id", "county_id").first(),
    }


def fill(route: Route, objects: dict[str, object]) -> str | None:
    """The route with its parameters filled from ``objects``; None when the role has no such object."""
    head = route.path.split("/")[0] if not route.api else route.path.split("/")[2]
    kind = {
        "unions": "union",
        "applications": "application",
        "allocations": "allocation",
        "programs": "program",
        "evaluation": "round",
        "evaluation-rounds": "round",
    }.get(head)
    url = "/" + route.path
    for name in route.names:
        if name in ("union_pk",):
            obj = objects["union"]
        elif name == "pk" and "assessments" in route.path:
            obj = objects["assessment"]
        elif name == "pk" and "spot-checks" in route.path:
            return None  # a spot-check page is reached from its round; measured with the round's pages
        elif name == "pk":
            obj = objects.get(kind or "")
        else:
            return None  # nested parameters (a member, an attachment): not a page of their own
        if obj is None:
            return None
        url = url.replace(f"<{name}>", str(obj.pk))
    return url


def sweep(bench, *, runs: int) -> list[dict]:
    """Measure every route as every role that may use it; one budget row per (role, route)."""
    import logging

    from members.models import User

    from .run import queries_of, timed

    logging.getLogger("django.request").setLevel(logging.ERROR)  # 405s of POST-only routes are expected here
    rows = []
    left_out: dict[str, int] = {}
    every_route = routes()
    for username in ROLES:
        user = User.objects.select_related("region", "union").filter(username=username).first()
        if user is None:
            continue
        client = bench.client_for(username, user)
        objects = samples(user)
        for route in every_route:
            url = fill(route, objects)
            if url is None:
                left_out["no object of its kind in scope"] = left_out.get("no object of its kind in scope", 0) + 1
                continue
            response = client.get(url)
            if response.status_code != 200:
                reason = f"answers {response.status_code} to this role"
                left_out[reason] = left_out.get(reason, 0) + 1
                continue

            def get(url=url, client=client):
                return client.get(url)

            figure = timed(get, runs=runs, warmup=3)
            count, _sql = queries_of(get)
            met = figure["p95_ms"] <= PAGE_BUDGET_MS
            row = {"role": username, "url": url, "api": route.api, "figure": figure, "queries": count, "met": met}
            rows.append(row)
            print(f"{'ok ' if met else 'OVER'} {username:<11} {url}: p95 {figure['p95_ms']} ms, {count} queries")
    bench.results["pages"] = {"budget_ms": PAGE_BUDGET_MS, "runs": runs, "rows": rows, "left_out": left_out}
    return rows
