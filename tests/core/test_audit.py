"""The audit trail is append-only (docs/rules.md §11), and logs never carry a full ID or phone number (§2)."""

import datetime as dt
import decimal
import io
import logging

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from members.models import Region
from unionfunds.core.audit import audit_record, client_ip
from unionfunds.core.identifiers import mask_personal_text
from unionfunds.core.logging import MaskPersonalDataFilter, mask_text
from unionfunds.core.models import AuditEvent

ID = "330106199003071236"
ID_X = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture
def event(regions):
    region = Region.objects.get(code="330106")
    return audit_record(
        action="test.change",
        obj=region,
        by=None,
        before={"status": "pending"},
        after={"status": "verified", "amount": decimal.Decimal("60000"), "on": dt.date(2024, 1, 2)},
    )


# ---------------------------------------------------------------- what an event records


def test_audit_record_keeps_actor_object_and_json_ready_values(event):
    event.refresh_from_db()
    assert event.actor is None
    assert event.actor_username == "system"
    assert (event.object_type, event.object_id, event.object_repr) == ("members.region", "330106", "西湖区")
    assert event.before == {"status": "pending"}
    assert event.after == {"status": "verified", "amount": "60000.00", "on": "2024-01-02"}
    assert event.at is not None


def test_audit_record_takes_the_client_ip_from_the_context(regions):
    token = client_ip.set("203.0.113.9")
    try:
        event = audit_record(action="test.ip", obj=Region.objects.get(code="330000"), by=None)
    finally:
        client_ip.reset(token)
    assert AuditEvent.objects.get(pk=event.pk).ip == "203.0.113.9"


# ---------------------------------------------------------------- append-only in the app


def test_saving_an_existing_event_is_refused(event):
    event.action = "test.forged"
    with pytest.raises(PermissionError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.change"


def test_deleting_an_event_is_refused(event):
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_is_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="test.forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(before=None)
    assert AuditEvent.objects.get(pk=event.pk).action == "test.change"


def test_queryset_delete_is_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_update_is_refused(event):
    event.action = "test.forged"
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.change"


def test_a_new_event_may_still_be_written(event):
    AuditEvent(action="test.more", object_type="x", object_id="1").save()
    assert AuditEvent.objects.filter(action__startswith="test.").count() == 2


# ---------------------------------------------------------------- append-only for every database client


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditevent SET action = 'test.forged' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ],
)
def test_postgres_trigger_refuses_raw_update_and_delete(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT action FROM core_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone() == ("test.change",)


# ---------------------------------------------------------------- masking in logs


def test_mask_text_masks_id_and_phone_numbers():
    text = mask_text(f"会员 {ID} 手机 {PHONE}；另一人 {ID_X.lower()}，电话:{PHONE[:3]}-x")
    assert ID not in text
    assert PHONE not in text
    assert ID_X.lower() not in text and ID_X not in text
    assert "330106********1236" in text
    assert "138****5678" in text
    assert "110105********002X" in text


@pytest.mark.parametrize("typed", ["138-1234-5678", "138 1234 5678", "+86 13812345678", "+8613812345678"])
def test_mask_text_masks_phone_numbers_as_people_type_them(typed):
    text = mask_text(f"联系电话：{typed}。")
    assert "138****5678。" in text
    assert "1234" not in text


@pytest.mark.parametrize(
    "harmless",
    [
        "order 1234567890123456789012 done",  # a longer number is not an ID
        "voucher 2024-000123, amount 60000.00",
        "credit code 91350100M000100Y43",
        "timestamp 1700000000123",  # 13 digits starting with 1 is not a phone
        "2024-1380-0138-8000",  # hyphenated groups that are not 3-4-4
        "amount 138 1234 56789",
    ],
)
def test_mask_text_leaves_other_numbers_alone(harmless):
    assert mask_text(harmless) == harmless


@pytest.fixture
def masked_logger():
    logger = logging.getLogger("tests.masking")
    mask = MaskPersonalDataFilter()
    logger.addFilter(mask)
    yield logger
    logger.removeFilter(mask)


def test_log_line_with_args_comes_out_masked(caplog, masked_logger):
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        masked_logger.info("import row: id=%s phone=%s union=%s", ID, PHONE, "西湖区快递行业工会联合会")
    [record] = caplog.records
    assert record.getMessage() == "import row: id=330106********1236 phone=138****5678 union=西湖区快递行业工会联合会"
    assert ID not in caplog.text
    assert PHONE not in caplog.text


def test_log_line_with_dict_args_comes_out_masked(caplog, masked_logger):
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        masked_logger.info("member %(id)s", {"id": ID})
    assert ID not in caplog.text
    assert "330106********1236" in caplog.text


def test_exception_traceback_in_a_log_comes_out_masked(caplog, masked_logger):
    with caplog.at_level(logging.ERROR, logger="tests.masking"):
        try:
            raise ValueError(f"bad row for {ID}, phone {PHONE}")
        except ValueError:
            masked_logger.exception("import failed")
    assert "import failed" in caplog.text
    assert "ValueError" in caplog.text
    assert ID not in caplog.text
    assert PHONE not in caplog.text


def test_stack_info_comes_out_masked(caplog, masked_logger):
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        masked_logger.info("where am I", stack_info=True, extra={"k": "330106199003071236"})  # in the stack's source
    [record] = caplog.records
    assert "330106********1236" in record.stack_info
    assert ID not in record.stack_info


def test_a_malformed_log_call_does_not_raise_from_the_filter(masked_logger):
    record = masked_logger.makeRecord("tests.masking", logging.INFO, __file__, 1, "%s and %s", (ID,), None)
    assert MaskPersonalDataFilter().filter(record) is True


def test_the_console_handler_of_settings_logging_masks_every_logger():
    """Django configured logging from settings.LOGGING: its console handler carries the filter."""
    assert "mask_personal_data" in settings.LOGGING["handlers"]["console"]["filters"]
    console = [h for h in logging.getLogger().handlers if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)]
    assert console, "the root logger has no handler with MaskPersonalDataFilter"
    handler = console[0]
    out = io.StringIO()
    old_stream = handler.setStream(out)
    try:
        logging.getLogger("some.third.party").warning("user %s called from %s", ID_X, PHONE)
        logging.getLogger("django.request").error("failed: %s", ID)
    finally:
        handler.setStream(old_stream)
    text = out.getvalue()
    assert "110105********002X" in text
    assert "138****5678" in text
    assert "330106********1236" in text
    assert ID_X not in text and PHONE not in text and ID not in text


# ---------------------------------------------------------------- no way to change it through the app


def trail() -> list[tuple]:
    return list(AuditEvent.objects.order_by("pk").values_list("pk", "action", "actor_username", "before", "after"))


@pytest.fixture
def operator(db):
    from members.models import User

    return User.objects.create_superuser("ops", password="Ops-pass-2026!")


def test_the_admin_shows_an_event_but_a_superuser_cannot_add_change_or_delete_it(client, event, operator):
    client.force_login(operator)
    recorded = trail()
    base = "/admin/core/auditevent/"
    assert client.get(f"{base}{event.pk}/change/").status_code == 200  # read-only view
    forged = {"action": "test.forged", "object_type": "x", "object_id": "1", "actor_username": "nobody"}
    assert client.post(f"{base}add/", forged).status_code == 403
    assert client.post(f"{base}{event.pk}/change/", forged).status_code == 403
    assert client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(base, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)  # the list has no delete action: nothing selected runs
    assert trail() == recorded


def test_no_api_route_writes_the_audit_trail(api, cast, event):
    from django.urls import get_resolver
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not [path for path in schema["paths"] if "audit" in path]
    for name, component in schema["components"]["schemas"].items():  # no body carries an audit event
        assert not {"actor_username", "object_repr"} <= set(component.get("properties", {})), name
    # No API view works on AuditEvent, whatever its URL.
    views = []

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            else:
                views.append(getattr(pattern.callback, "cls", None))

    recorded = trail()
    walk(get_resolver().url_patterns)
    api_views = [v for v in views if v is not None]
    assert api_views  # the walk found the DRF views
    for view in api_views:
        model = getattr(getattr(view, "queryset", None), "model", None)
        serializer = getattr(view, "serializer_class", None)
        assert model is not AuditEvent and getattr(getattr(serializer, "Meta", None), "model", None) is not AuditEvent
    client = api.as_user(cast.province)
    for url in ("/api/v1/audit/", "/api/v1/audit-events/", f"/api/v1/audit-events/{event.pk}/"):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)(url, {"action": "test.forged"}, format="json").status_code == 404
    assert trail() == recorded


def test_the_audit_page_only_reads(client, cast, event):
    client.force_login(cast.province)
    recorded = trail()
    for method in ("post", "put", "delete"):
        getattr(client, method)("/audit/", {"action": "test.forged", "id": event.pk})
    assert trail() == recorded


# ---------------------------------------------------------------- the one mask, wherever text is echoed


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"q=a{ID}", "q=a330106********1236"),  # glued to a letter
        (f"名单{ID}x.csv", "名单330106********1236x.csv"),
        (f"file_{PHONE}b.pdf", "file_138****5678b.pdf"),
        (f"q=%E5%BC%A0%E4%B8%89{ID}", "q=张三330106********1236"),  # %89 glues a digit to the number
        (f"q=%25E5%25BC%25A0{ID}", "q=张330106********1236"),  # encoded twice
        ("tel=138+1234+5678&q=%E5%BC%A0", "tel=138****5678&q=张"),  # + is a space in a query
        # Found without decoding: the text is kept as it was, only masked.
        (f"{ID_X.lower()}%2C{PHONE}", "110105********002X%2C138****5678"),
    ],
)
def test_the_mask_finds_numbers_glued_to_letters_or_percent_encoded(text, masked):
    assert mask_personal_text(text) == masked
    assert mask_text(text) == masked  # the log filter's name for the same function


@pytest.mark.parametrize(
    "harmless",
    [
        "sha256 4f2a9c1b330106199003071236e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0",  # a digest stays whole
        "100%+ done, 50% of 13800 rows",
        "a+b=c, 1+1=2",
    ],
)
def test_the_mask_leaves_digests_and_plain_percent_signs_alone(harmless):
    assert mask_personal_text(harmless) == harmless


def test_audit_record_masks_every_string_it_keeps(regions):
    region = Region.objects.get(code="330106")
    region.name = f"西湖区{PHONE}"  # what str(obj) shows, not saved
    event = audit_record(
        action="test.masking",
        obj=region,
        by=None,
        before={"file": f"名单{ID}.csv", "nested": [{"comment": f"联系 {PHONE}"}], "n": 13812345678},
        after={"file": f"%E5%BC%A0{ID}.pdf", "sha256": "0" * 20 + ID + "a" * 26},
    )
    event.refresh_from_db()
    assert event.before == {
        "file": "名单330106********1236.csv",
        "nested": [{"comment": "联系 138****5678"}],
        "n": 13812345678,  # numbers are not text anyone typed into a name
    }
    assert event.after == {"file": "张330106********1236.pdf", "sha256": "0" * 20 + ID + "a" * 26}
    assert event.object_repr == "西湖区138****5678"


def test_a_percent_encoded_query_in_a_log_line_comes_out_masked(caplog, masked_logger):
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        masked_logger.info("GET /unions/?q=%s HTTP/1.1", f"%E5%BC%A0%E4%B8%89{ID}")
        masked_logger.info("GET /x/a%s/", ID)
    assert ID not in caplog.text
    assert "q=张三330106********1236" in caplog.text and "/x/a330106********1236/" in caplog.text
