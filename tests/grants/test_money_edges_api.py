"""The money edge cases through the API: refused with a clear 400/409, never a 500, nothing changed."""

import pytest

from grants.models import Allocation, Application
from tests.factories import add_members, make_application, make_program

EDGES = ["-1", "0", "60000.001", "NaN", "Infinity", "-Infinity", "1e9", "60000.01", "abc", ""]


@pytest.fixture
def reviewed(cast):
    add_members(cast.union_xihu, 160)
    add_members(cast.union_xihu_other, 160)
    program = make_program(cast.province, name="金额边界测试项目")
    return program, make_application(program, cast.union_xihu, until="reviewed")


@pytest.mark.parametrize("amount", EDGES)
def test_a_bad_requested_amount_is_refused_and_nothing_is_created(api, cast, reviewed, amount):
    program, _ = reviewed
    before = Application.objects.count()
    response = api.as_user(cast.xihu).post(
        "/api/v1/applications/",
        {"program": program.pk, "union": cast.union_xihu_other.pk, "requested_amount": amount},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "requested_amount" in response.json()
    assert Application.objects.count() == before


@pytest.mark.parametrize("amount", EDGES)
def test_a_bad_approved_amount_is_refused_and_nothing_is_approved(api, cast, reviewed, amount):
    _, application = reviewed
    response = api.as_user(cast.province).post(
        f"/api/v1/applications/{application.pk}/approve/", {"approved_amount": amount}, format="json"
    )
    assert response.status_code in (400, 409), response.content
    body = response.json()
    assert "approved_amount" in body or body.get("code") in {
        "amount_not_positive",
        "amount_above_requested",
        "amount_above_max_grant",
        "budget_exceeded",
    }
    application.refresh_from_db()
    assert application.status == "reviewed"
    assert not Allocation.objects.filter(application=application).exists()
