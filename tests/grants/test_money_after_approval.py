"""Money after approval (docs/rules.md): tranches (拨付) and expenditures (支出) through the contract API.

A tranche never takes the disbursed sum above the allocation, spending never goes above what was
disbursed; categories, dates, amounts, voucher numbers and voucher files are checked; every refusal
leaves the figures, the rows, the audit trail and ``updated_at`` exactly as they were, and every
successful record moves the figures and writes an audit event.
"""

import datetime as dt
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from grants import services
from grants.models import Allocation, Disbursement, Expenditure
from tests.factories import API, JPEG, PDF, PNG, approve, disburse, figures, make_application, spend, voucher
from unionfunds.core import clock
from unionfunds.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def alloc(stocked, program) -> Allocation:
    """60,000.00 granted to the Xihu officer's union today (program categories: activities, skills,
    mutual_aid, labor_protection)."""
    return approve(program, stocked.union_xihu)


def tranche_body(**overrides) -> dict:
    return {"amount": "20000.00", "paid_on": clock.today().isoformat(), "voucher_no": voucher("XH"), **overrides}


def spend_body(**overrides) -> dict:
    return {
        "spent_on": clock.today().isoformat(),
        "category": "activities",
        "amount": "15000.00",
        "description": "快递小哥技能培训",
        "voucher_no": voucher("ZC"),
        "beneficiaries": 42,
        **overrides,
    }


def post_tranche(api, user, allocation, **overrides):
    return api.as_user(user).post(f"{API}/{allocation.pk}/disbursements/", tranche_body(**overrides), format="json")


def post_spend(api, user, allocation, **overrides):
    return api.as_user(user).post(f"{API}/{allocation.pk}/expenditures/", spend_body(**overrides), format="json")


def media_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ------------------------------------------------------------------ successful records


def test_tranches_move_disbursed_status_and_updated_at_and_are_audited(stocked, alloc, api):
    assert (alloc.disbursed_amount, alloc.status) == (Decimal("0.00"), "allocated")
    before = alloc.updated_at

    response = post_tranche(api, stocked.xihu, alloc, amount="20000.00", voucher_no="XH-2026-001")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "20000.00"
    assert body["voucher_no"] == "XH-2026-001"
    assert body["paid_on"] == clock.today().isoformat()
    assert body["from_region_id"] == "330106"
    alloc.refresh_from_db()
    assert alloc.disbursed_amount == Decimal("20000.00")
    assert alloc.status == "partially_disbursed"
    assert alloc.updated_at > before
    event = AuditEvent.objects.get(action="allocation.disburse")
    assert event.object_id == str(alloc.pk)
    assert event.actor == stocked.xihu
    assert event.after["amount"] == "20000.00"
    assert event.after["voucher_no"] == "XH-2026-001"
    assert event.ip == "127.0.0.1"

    # The rest, by the city this time: fully disbursed, and the city is the paying federation.
    response = post_tranche(api, stocked.hangzhou, alloc, amount="40000.00")
    assert response.status_code == 201, response.content
    assert response.json()["from_region_id"] == "330100"
    row = api.as_user(stocked.province).get(f"{API}/{alloc.pk}/").json()
    assert (row["disbursed_amount"], row["spent_amount"], row["status"]) == ("60000.00", "0.00", "disbursed")
    assert [(d["amount"], d["from_region_id"]) for d in row["disbursements"]] == [
        ("20000.00", "330106"),
        ("40000.00", "330100"),
    ]
    assert AuditEvent.objects.filter(action="allocation.disburse", object_id=str(alloc.pk)).count() == 2


def test_expenditures_move_spent_rate_status_and_are_audited(stocked, alloc, api):
    disburse(alloc, "60000.00")
    alloc.refresh_from_db()
    before = alloc.updated_at

    response = post_spend(api, stocked.officer, alloc, amount="15000.00", category="skills", beneficiaries=42)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["category"], body["beneficiaries"]) == ("15000.00", "skills", 42)
    row = api.as_user(stocked.officer).get(f"{API}/{alloc.pk}/").json()
    assert (row["spent_amount"], row["utilization_rate"], row["status"]) == ("15000.00", "0.2500", "disbursed")
    assert Allocation.objects.get(pk=alloc.pk).updated_at > before
    assert row["by_category"] == [
        {"category": "skills", "label": "素质技能提升", "n": 1, "people": 42, "total": "15000.00"}
    ]
    event = AuditEvent.objects.get(action="allocation.spend")
    assert (event.object_id, event.actor) == (str(alloc.pk), stocked.officer)
    assert (event.after["amount"], event.after["category"]) == ("15000.00", "skills")

    # The county may record spending for the union too; spending everything makes it "spent", 100 %.
    assert post_spend(api, stocked.xihu, alloc, amount="45000.00").status_code == 201
    row = api.as_user(stocked.officer).get(f"{API}/{alloc.pk}/").json()
    assert (row["spent_amount"], row["utilization_rate"], row["status"]) == ("60000.00", "1.0000", "spent")
    assert {(c["category"], c["total"]) for c in row["by_category"]} == {
        ("skills", "15000.00"),
        ("activities", "45000.00"),
    }
    assert AuditEvent.objects.filter(action="allocation.spend").count() == 2


def test_tranche_up_to_exactly_what_is_left_is_accepted(stocked, alloc, api):
    disburse(alloc, "59999.99")
    assert post_tranche(api, stocked.xihu, alloc, amount="0.01").status_code == 201
    alloc.refresh_from_db()
    assert alloc.disbursed_amount == alloc.amount


def test_expenditure_with_a_voucher_file_keeps_it_under_an_unguessable_name(stocked, alloc, api, _media):
    disburse(alloc, "30000.00")
    body = spend_body(voucher_file=SimpleUploadedFile("发票.pdf", PDF, content_type="application/pdf"))
    response = api.as_user(stocked.officer).post(f"{API}/{alloc.pk}/expenditures/", body, format="multipart")
    assert response.status_code == 201, response.content
    expenditure = Expenditure.objects.get(pk=response.json()["id"])
    assert expenditure.voucher_name == "发票.pdf"
    assert expenditure.voucher_type == "application/pdf"
    assert "发票" not in expenditure.voucher_file.name
    assert expenditure.voucher_file.read() == PDF


@pytest.mark.parametrize(
    ("name", "content", "content_type"), [("scan.png", PNG, "image/png"), ("x.jpg", JPEG, "image/jpeg")]
)
def test_png_and_jpeg_vouchers_are_accepted_by_content(stocked, alloc, api, name, content, content_type):
    disburse(alloc, "30000.00")
    # The client's claimed type is ignored; the first bytes decide.
    body = spend_body(voucher_file=SimpleUploadedFile(name, content, content_type="application/octet-stream"))
    response = api.as_user(stocked.officer).post(f"{API}/{alloc.pk}/expenditures/", body, format="multipart")
    assert response.status_code == 201, response.content
    assert Expenditure.objects.get(pk=response.json()["id"]).voucher_type == content_type


# ------------------------------------------------------------------ limits: 409 with the numbers


def test_tranche_above_what_is_left_is_409_with_the_numbers_and_changes_nothing(stocked, alloc, api):
    disburse(alloc, "50000.00")
    before = figures(alloc)

    response = post_tranche(api, stocked.xihu, alloc, amount="10000.01")

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "disbursement_exceeds_allocation"
    for number in ("10,000.01", "10,000.00", "60,000.00", "50,000.00"):
        assert number in body["detail"]
    assert body["remaining"] == "10000.00"
    assert figures(alloc) == before


def test_spending_above_what_was_disbursed_is_409_with_the_numbers_and_changes_nothing(stocked, alloc, api):
    before = figures(alloc)
    response = post_spend(api, stocked.officer, alloc, amount="0.01")  # nothing received yet
    assert response.status_code == 409
    assert response.json()["code"] == "expenditure_exceeds_disbursed"
    assert figures(alloc) == before

    disburse(alloc, "20000.00")
    spend(alloc, "5000.00")
    before = figures(alloc)
    response = post_spend(api, stocked.officer, alloc, amount="15000.01")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "expenditure_exceeds_disbursed"
    for number in ("15,000.01", "15,000.00", "20,000.00", "5,000.00"):
        assert number in body["detail"]
    assert body["remaining"] == "15000.00"
    assert figures(alloc) == before
    # Exactly what is left is fine.
    assert post_spend(api, stocked.officer, alloc, amount="15000.00").status_code == 201


# ------------------------------------------------------------------ bad input: 400 naming the field


def _days(n: int) -> str:
    return (clock.today() + dt.timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "100.005"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "99999999999999.99"}, "amount"),
        ({"paid_on": _days(1)}, "paid_on"),
        ({"paid_on": _days(-1)}, "paid_on"),  # before the approval (today)
        ({"paid_on": "2026-02-30"}, "paid_on"),
        ({"voucher_no": ""}, "voucher_no"),
        ({"voucher_no": "   "}, "voucher_no"),
        ({"voucher_no": "X" * 51}, "voucher_no"),
    ],
)
def test_bad_tranche_is_400_naming_the_field_and_changes_nothing(stocked, alloc, api, overrides, field):
    disburse(alloc, "10000.00")
    before = figures(alloc)
    response = post_tranche(api, stocked.xihu, alloc, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert figures(alloc) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "hardship"}, "category"),  # a real category, but not one this program allows
        ({"category": "travel"}, "category"),
        ({"spent_on": f"{clock.today().year - 1}-12-31"}, "spent_on"),
        ({"spent_on": _days(1)}, "spent_on"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"description": ""}, "description"),
        ({"voucher_no": ""}, "voucher_no"),
        ({"beneficiaries": -1}, "beneficiaries"),
    ],
)
def test_bad_expenditure_is_400_naming_the_field_and_changes_nothing(stocked, alloc, api, overrides, field):
    disburse(alloc, "30000.00")
    spend(alloc, "1000.00")
    before = figures(alloc)
    response = post_spend(api, stocked.officer, alloc, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert figures(alloc) == before


def test_category_refusal_names_the_allowed_categories(stocked, alloc, api):
    disburse(alloc, "30000.00")
    response = post_spend(api, stocked.officer, alloc, category="hardship")
    assert response.status_code == 400
    message = " ".join(response.json()["category"])
    assert "hardship" in message
    assert "职工活动" in message and "劳动保护" in message


def test_a_voucher_number_is_used_once_per_paying_federation(stocked, program, alloc, api):
    other = approve(program, stocked.union_xihu_other)
    assert post_tranche(api, stocked.xihu, alloc, voucher_no="XH-2026-007").status_code == 201
    before = (figures(alloc), figures(other))

    # Same federation, same number: refused, on the same allocation or another one.
    for target in (alloc, other):
        response = post_tranche(api, stocked.xihu, target, voucher_no="XH-2026-007")
        assert response.status_code == 400, response.content
        assert "XH-2026-007" in " ".join(response.json()["voucher_no"])
    assert (figures(alloc), figures(other)) == before

    # Another federation's books have their own numbering.
    assert post_tranche(api, stocked.hangzhou, other, voucher_no="XH-2026-007").status_code == 201
    assert Disbursement.objects.filter(voucher_no="XH-2026-007").count() == 2


def test_a_text_file_named_pdf_is_refused_and_nothing_is_kept(stocked, alloc, api, _media):
    disburse(alloc, "30000.00")
    before = figures(alloc)
    fake = SimpleUploadedFile("invoice.pdf", b"just some text, not a PDF\n", content_type="application/pdf")
    response = api.as_user(stocked.officer).post(
        f"{API}/{alloc.pk}/expenditures/", spend_body(voucher_file=fake), format="multipart"
    )
    assert response.status_code == 400, response.content
    assert "voucher_file" in response.json()
    assert figures(alloc) == before
    assert media_files(_media) == []


def test_an_html_file_is_refused_whatever_its_name(stocked, alloc, api, _media):
    disburse(alloc, "30000.00")
    before = figures(alloc)
    page = SimpleUploadedFile("scan.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    response = api.as_user(stocked.officer).post(
        f"{API}/{alloc.pk}/expenditures/", spend_body(voucher_file=page), format="multipart"
    )
    assert response.status_code == 400
    assert "voucher_file" in response.json()
    assert figures(alloc) == before


def test_a_voucher_over_the_size_limit_is_refused_and_nothing_is_kept(stocked, alloc, api, _media):
    disburse(alloc, "30000.00")
    before = figures(alloc)
    with override_settings(UPLOAD_MAX_BYTES=1024):
        big = SimpleUploadedFile("big.pdf", PDF + b"0" * 1024, content_type="application/pdf")
        response = api.as_user(stocked.officer).post(
            f"{API}/{alloc.pk}/expenditures/", spend_body(voucher_file=big), format="multipart"
        )
        assert response.status_code == 400, response.content
        assert "voucher_file" in response.json()
        # Just under the limit is fine.
        small = SimpleUploadedFile("ok.pdf", PDF + b"0" * (1024 - len(PDF)), content_type="application/pdf")
        assert figures(alloc) == before
        assert media_files(_media) == []
        response = api.as_user(stocked.officer).post(
            f"{API}/{alloc.pk}/expenditures/", spend_body(voucher_file=small), format="multipart"
        )
        assert response.status_code == 201, response.content


def test_the_service_refuses_an_oversized_voucher_on_its_own(stocked, alloc):
    """Pages and the API check the size early; the service is the last line and checks it again."""
    disburse(alloc, "30000.00")
    before = figures(alloc)
    with override_settings(UPLOAD_MAX_BYTES=100), pytest.raises(ValidationError) as refused:
        services.expenditure_record(
            allocation=alloc,
            data={
                "spent_on": clock.today(),
                "category": "activities",
                "amount": "10.00",
                "description": "x",
                "voucher_no": "V-1",
            },
            by=stocked.officer,
            voucher_name="a.pdf",
            voucher_content=PDF + b"0" * 200,
        )
    assert "voucher_file" in refused.value.message_dict
    assert figures(alloc) == before


def test_a_voucher_named_after_a_person_is_kept_under_its_masked_name(stocked, alloc, api, client, _media):
    disburse(alloc, "30000.00")
    name = "发票-330106199003071236-13912345678.pdf"
    body = spend_body(voucher_file=SimpleUploadedFile(name, PDF, content_type="application/pdf"))
    response = api.as_user(stocked.officer).post(f"{API}/{alloc.pk}/expenditures/", body, format="multipart")
    expenditure = Expenditure.objects.get(pk=response.json()["id"])
    assert expenditure.voucher_name == "发票-330106********1236-139****5678.pdf"
    client.force_login(stocked.officer)
    download = client.get(f"/allocations/{alloc.pk}/expenditures/{expenditure.pk}/voucher/")
    assert "330106199003071236" not in unquote(download["Content-Disposition"])


def test_an_attachment_named_after_a_person_is_kept_under_its_masked_name(stocked, program, client, _media):
    application = make_application(program, stocked.union_xihu)
    client.force_login(stocked.xihu)
    name = "%E5%BC%A0%E4%B8%89330106199003071236.pdf"  # as a browser may encode it
    client.post(
        f"/applications/{application.pk}/attachments/", {"kind": "other", "file": SimpleUploadedFile(name, PDF)}
    )
    [attachment] = application.attachments.all()
    assert attachment.original_name == "张三330106********1236.pdf"
    event = AuditEvent.objects.get(action="application.attach")
    assert event.after["name"] == "张三330106********1236.pdf"
