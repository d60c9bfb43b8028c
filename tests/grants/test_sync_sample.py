"""The sync program of ``docs/guide/auditor.md`` runs as printed against a live server and keeps a complete,
current copy: first everything, then only what changed (a tranche brings its allocation back), and after
its cursor is refused it starts over and still ends complete."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from grants.models import Allocation
from members.services import api_client_register
from tests.factories import approve, disburse, eligible_union

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE = Path(settings.BASE_DIR, "docs", "guide", "auditor.md")


def sample_program() -> str:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    [program] = [b for b in blocks if "def sync_once" in b]
    return program


@pytest.fixture
def sync(live_server, tmp_path, cast):
    """The guide's program as printed, pointed at the live server with the key of a registered outside system."""
    client, secret = api_client_register(
        name="省审计厅联网审计系统", region_code="330000", scopes=["allocations:read"], by=None
    )
    namespace = {"__name__": "auditor_sample"}  # not __main__: the loop itself is not started
    code = (
        sample_program()
        .replace("https://<系统地址>", live_server.url)
        .replace("<client_id>", client.application.client_id)
        .replace("<client_secret>", secret)
    )
    exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 -- the guide's own sample, run as printed
    db = namespace["open_store"](str(tmp_path / "allocations.db"))
    token = namespace["get_token"]()

    def run() -> int:
        return namespace["sync_once"](db, token)

    def stored() -> dict[int, dict]:
        return {pk: json.loads(body) for pk, body in db.execute("SELECT id, body FROM record")}

    run.stored, run.db = stored, db
    return run


def test_the_guides_sync_program_keeps_a_complete_copy(sync, stocked, program):
    first = approve(program, stocked.union_xihu, "60000.00")
    second = approve(program, stocked.union_yinzhou, "40000.00")
    assert sync() == 2
    assert set(sync.stored()) == {first.pk, second.pk}
    assert sync() == 0  # nothing changed, nothing comes

    disburse(second, "15000.00")
    third = approve(program, eligible_union("330110"), "30000.00")
    assert sync() == 2
    copy = sync.stored()
    assert set(copy) == {first.pk, second.pk, third.pk}
    assert copy[second.pk]["disbursed_amount"] == "15000.00"

    # A cursor the server no longer takes (here: damaged): the program starts over and ends complete.
    sync.db.execute("UPDATE sync_state SET cursor = 'damaged'")
    sync.db.commit()
    disburse(first, "1000.00")
    assert sync() == 3
    assert {pk: row["disbursed_amount"] for pk, row in sync.stored().items()} == {
        a.pk: f"{a.disbursed_amount:.2f}" for a in Allocation.objects.all()
    }
