"""Tranches go down the union's chain, each recording from and to whom (docs/rules.md): only what reaches the
union counts as disbursed to it, and no recipient gets more than the allocation."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from grants import services
from grants.models import Disbursement
from tests.factories import add_members, approve, make_program
from unionfunds.core import clock
from unionfunds.core.errors import ApplicationError


@pytest.fixture
def allocation(cast):
    add_members(cast.union_xihu, 160)
    program = make_program(cast.province, name="逐级拨付测试项目")
    return approve(program, cast.union_xihu, "60000.00")


def pay(allocation, by, amount, to=None, voucher="V1"):
    return services.disbursement_record(
        allocation=allocation, amount=amount, paid_on=clock.today(), voucher_no=voucher, by=by, to=to
    )


def test_province_to_county_federation_then_county_to_union(allocation, cast):
    first = pay(allocation, cast.province, "60000.00", to="330106", voucher="SZ-1")
    allocation.refresh_from_db()
    assert first.from_region_id == "330000" and first.to_region_id == "330106"
    assert allocation.disbursed_amount == 0  # the money is with the county federation, not the union yet
    assert allocation.status == "allocated"

    second = pay(allocation, cast.xihu, "36000.00", voucher="XH-1")
    allocation.refresh_from_db()
    assert second.from_region_id == "330106" and second.to_region_id is None
    assert allocation.disbursed_amount == 36000
    assert allocation.status == "partially_disbursed"


def test_no_recipient_gets_more_than_the_allocation(allocation, cast):
    pay(allocation, cast.province, "50000.00", to="330100", voucher="SZ-1")
    with pytest.raises(ApplicationError) as refused:
        pay(allocation, cast.province, "10000.01", to="330100", voucher="SZ-2")
    assert refused.value.code == "disbursement_exceeds_allocation"
    assert "10,000.00" in refused.value.detail  # what is left for that recipient
    assert Disbursement.objects.count() == 1


@pytest.mark.parametrize(
    ("payer", "to"),
    [
        ("xihu", "330100"),  # a county cannot pass money up to its city
        ("hangzhou", "330100"),  # nor to itself
        ("province", "330110"),  # a county that is not the union's
        ("province", "330200"),  # another city
        ("hangzhou", "330000"),
    ],
)
def test_a_recipient_off_the_unions_chain_is_refused(allocation, cast, payer, to):
    with pytest.raises(ValidationError) as refused:
        pay(allocation, cast.users()[payer], "1000.00", to=to)
    assert "to" in refused.value.message_dict
    assert not Disbursement.objects.exists()


def test_the_api_and_the_page_offer_the_chain(allocation, cast, api, client):
    response = api.as_user(cast.province).post(
        f"/api/v1/allocations/{allocation.pk}/disbursements/",
        {"amount": "20000.00", "paid_on": dt.date.today().isoformat(), "voucher_no": "SZ-9", "to": "330106"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["to_region_id"] == "330106"
    client.force_login(cast.hangzhou)
    page = client.get(f"/allocations/{allocation.pk}/").content.decode()
    assert '<option value="330106">杭州市西湖区总工会</option>' in page
    assert "杭州市西湖区总工会" in page.split('id="tranches"')[1].split("</table>")[0]
