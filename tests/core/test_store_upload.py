"""Uploads are checked, stored under an unguessable name and described once (name masked, type, size, hash)."""

import hashlib

import pytest
from django.core.exceptions import ValidationError

from grants.models import Attachment
from unionfunds.core.uploads import download_response, store_upload

PDF = b"%PDF-1.4\n%%EOF\n"


def test_an_accepted_upload_is_stored_and_described(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = Attachment(application_id=7)
    stored = store_upload(attachment.file, name="选举材料13812345678.pdf", content=PDF)
    assert stored.content_type == "application/pdf" and stored.size == len(PDF)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.name == "选举材料138****5678.pdf"
    assert attachment.file.name.startswith("attachments/7/") and "选举" not in attachment.file.name
    assert attachment.file.read() == PDF


def test_a_refused_upload_names_the_field_and_stores_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = Attachment(application_id=7)
    with pytest.raises(ValidationError) as refused:
        store_upload(attachment.file, name="a.exe", content=b"MZ\x90\x00", field="voucher_file")
    assert set(refused.value.message_dict) == {"voucher_file"}
    assert not attachment.file and not any(tmp_path.rglob("*"))


def test_a_stored_upload_is_sent_back_as_a_download_under_its_display_name(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = Attachment(application_id=7)
    stored = store_upload(attachment.file, name="选举 材料;1.pdf", content=PDF)
    response = download_response(attachment.file, name=stored.name, content_type=stored.content_type)
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    # Quoted whole: a space or a semicolon in the name cannot end the header's value early.
    assert (
        response["Content-Disposition"]
        == "attachment; filename*=UTF-8''%E9%80%89%E4%B8%BE%20%E6%9D%90%E6%96%99%3B1.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
