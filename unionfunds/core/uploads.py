"""What uploads the system accepts: the type is sniffed from the first bytes, never from the name."""

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from .identifiers import mask_personal_text

ALLOWED_UPLOADS = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def display_file_name(name: str) -> str:
    """The name an uploaded file is kept and shown under: people name scans after whom they concern, so
    ID- and phone-number-like parts are masked before it is stored (pages, exports, the audit trail)."""
    return mask_personal_text(name or "")[:200]


def sniff_upload(content: bytes) -> str | None:
    """Content type of a PDF, PNG or JPEG file; None for anything else."""
    for magic, content_type in ALLOWED_UPLOADS.items():
        if content.startswith(magic):
            return content_type
    return None


def size_limit_mb() -> str:
    """The largest upload in MB as people write it: 10, 2.5."""
    return f"{settings.UPLOAD_MAX_BYTES / 1048576:g}"


def too_large_message() -> str:
    return _("文件超过 %(mb)s MB。") % {"mb": size_limit_mb()}


def voucher_too_large_message() -> str:
    return _("凭证文件超过 %(mb)s MB。") % {"mb": size_limit_mb()}


def check_upload(content: bytes, *, field: str = "file") -> str:
    """The content type of an acceptable upload, or ValidationError naming ``field`` and the reason."""
    if not content:
        raise ValidationError({field: _("文件是空的。")})
    if len(content) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({field: too_large_message()})
    content_type = sniff_upload(content)
    if content_type is None:
        raise ValidationError({field: _("只接受 PDF、PNG 或 JPEG 文件（按文件内容识别，而非扩展名）。")})
    return content_type


@dataclass(frozen=True)
class StoredUpload:
    """What a model keeps of an accepted upload beside the file itself."""

    name: str  # the display name, personal numbers masked
    content_type: str
    size: int
    sha256: str


def store_upload(target: FieldFile, *, name: str, content: bytes, field: str = "file") -> StoredUpload:
    """Check ``content`` (``check_upload``, naming ``field``) and put it into ``target`` (a model's FileField,
    under an unguessable name from its ``upload_to``; the model itself is saved by the caller)."""
    content_type = check_upload(content, field=field)
    target.save("upload", ContentFile(content), save=False)
    return StoredUpload(
        name=display_file_name(name),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def download_response(stored: FieldFile, *, name: str, content_type: str) -> FileResponse:
    """A stored upload sent back as a download under its display ``name`` (any script, RFC 5987), never shown
    inline and never type-sniffed by the browser. The caller has checked that the user may read it."""
    response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
