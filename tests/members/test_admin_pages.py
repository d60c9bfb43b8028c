"""The unlock page (django-axes lockouts) and the audit log page (started here)."""

import csv
import io

from axes.models import AccessAttempt

from tests.factories import lockout
from unionfunds.core.models import AuditEvent


def lock(username: str, failures: int = 5):
    return lockout(username, failures)


def test_county_staff_unlock_an_officer_of_their_county_and_it_is_audited(client, cast):
    lock(cast.officer.username)
    lock(cast.yinzhou.username)  # another city's account: not shown, cannot be unlocked
    client.force_login(cast.xihu)
    page = client.get("/accounts/locked/").content.decode()
    assert cast.officer.username in page and cast.yinzhou.username not in page
    client.post("/accounts/locked/", {"username": cast.yinzhou.username})
    assert AccessAttempt.objects.filter(username=cast.yinzhou.username).exists()
    client.post("/accounts/locked/", {"username": cast.officer.username})
    assert not AccessAttempt.objects.filter(username=cast.officer.username).exists()
    event = AuditEvent.objects.get(action="user.unlock")
    assert event.actor == cast.xihu and event.object_repr == cast.officer.username


def test_officers_and_auditors_cannot_unlock(client, cast):
    lock(cast.xihu.username)
    for user in (cast.officer, cast.auditor):
        client.force_login(user)
        client.post("/accounts/locked/", {"username": cast.xihu.username})
        assert AccessAttempt.objects.filter(username=cast.xihu.username).exists()


def test_the_audit_log_is_searchable_and_exportable_by_the_province_only(client, cast):
    client.force_login(cast.xihu)
    client.post(f"/unions/{cast.union_xihu.pk}/suspend/", {"comment": "暂停"})
    client.force_login(cast.auditor)
    page = client.get("/audit/?action=union.").content.decode()
    assert "union.suspend" in page
    export = client.get("/audit/?action=union.&format=csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["at", "actor", "action"] and any(r[2] == "union.suspend" for r in rows[1:])
    for user in (cast.xihu, cast.hangzhou, cast.city_auditor, cast.officer):
        client.force_login(user)
        response = client.get("/audit/")
        assert response.status_code == 302
