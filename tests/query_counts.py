"""Query-count guards: a list costs the same number of SQL queries whatever it shows.

``assert_flat`` asks each probe (one user's GET of one list) once to warm up, then measures its queries with
a few rows, lets the test add several times more rows (of the list itself and of what each row displays),
and asks again under ``django_assert_max_num_queries(<count with few rows>)``. It also checks that every
list the probe counts really grew, so the guard cannot pass over an empty or unchanged list. A view that
loads a related object or runs a query per row fails here with the list of its queries.

The few rows must already hold one of every kind the list shows (an approval, a draft, a tranche…):
Django runs no query for an empty ``__in`` list, so a query that only starts once the first row of a
kind exists would look like growth.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from members.models import User

Rows = Callable[[object], dict[str, int]]


@dataclass
class Probe:
    """One request of a list and how to count what it shows (``{"what": how many}``)."""

    name: str
    get: Callable[[], object]
    rows: Rows

    @classmethod
    def of(cls, name: str, client, url, rows: Rows, params=None) -> "Probe":
        """A GET of ``url`` by ``client``; ``url`` and ``params`` may be callables read at request time."""

        def get():
            return client.get(url() if callable(url) else url, params() if callable(params) else params)

        return cls(name, get, rows)


def page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))  # nothing cached from the setup on the user
    return client


def _ok(probe: Probe):
    response = probe.get()
    status = getattr(response, "status_code", 200)  # a probe may also render something outside a request
    assert status == 200, f"{probe.name}: HTTP {status}"
    return response


def assert_flat(django_assert_max_num_queries, probes: list[Probe], grow: Callable[[], None], *, factor: int = 3):
    """Measure ``probes`` with the data as it is, call ``grow``, and assert that no probe needs more queries
    while everything it counts has grown at least ``factor`` times."""
    for probe in probes:
        _ok(probe)  # warm-up: what is cached on first use (content types, translations) is not the list's cost
    before = {}
    for probe in probes:
        with CaptureQueriesContext(connection) as captured:
            response = _ok(probe)
        rows = probe.rows(response)
        assert rows and all(n >= 1 for n in rows.values()), f"{probe.name}: measure with at least one row: {rows}"
        before[probe.name] = (len(captured), rows)
    grow()
    for probe in probes:
        queries, rows = before[probe.name]
        with django_assert_max_num_queries(queries, info=f"{probe.name} (showing {rows} it needed {queries})"):
            response = _ok(probe)
        after = probe.rows(response)
        grown = {what: (rows[what], after.get(what, 0)) for what in rows}
        assert all(new >= factor * old for old, new in grown.values()), f"{probe.name}: not grown enough: {grown}"


# ---------------------------------------------------------------- counting what a response shows


def html(response) -> str:
    return response.content.decode()


def table_rows(text: str, table_id: str) -> int:
    """Data rows of ``<table id=table_id>`` (the ``{% empty %}`` row, a single muted cell, is not one)."""
    start = text.index(f'id="{table_id}"')
    table = text[start : text.index("</table>", start)]
    body = table.split("<tbody>", 1)[1] if "<tbody>" in table else table
    return len(re.findall(r"<tr[^>]*>\s*<td(?![^>]*class=\"muted\")", body))


def list_items(text: str, list_id: str) -> int:
    """Items of ``<ul id=list_id>`` (the muted ``{% empty %}`` item is not one)."""
    start = text.index(f'id="{list_id}"')
    items = text[start : text.index("</ul>", start)]
    return len(re.findall(r"<li(?![^>]*class=\"muted\")[^>]*>", items))


def matches(text: str, pattern: str) -> int:
    return len(re.findall(pattern, text))


def results(response) -> int:
    """Rows of a paginated API list."""
    return len(response.json()["results"])
