"""Writes of an application's supporting documents (election records, rosters, plans)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from members.models import User
from unionfunds.core.audit import audit_record
from unionfunds.core.decisions import enforce
from unionfunds.core.scoping import get_in_scope
from unionfunds.core.uploads import store_upload

from .. import permissions
from ..choices import AttachmentKind
from ..models import Application, Attachment
from .applications import scoped_applications


@transaction.atomic
def attachment_add(*, application: Application, kind: str, filename: str, content: bytes, by: User) -> Attachment:
    application = get_in_scope(scoped_applications(by), application.pk, lock=True)
    enforce(permissions.can_attach(by, application))
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": _("未知的材料类型「%(kind)s」。") % {"kind": kind}})
    attachment = Attachment(application=application, kind=kind, uploaded_by=by)
    stored = store_upload(attachment.file, name=filename, content=content)
    attachment.original_name = stored.name
    attachment.content_type = stored.content_type
    attachment.size = stored.size
    attachment.sha256 = stored.sha256
    attachment.save()
    audit_record(
        action="application.attach",
        obj=application,
        by=by,
        after={
            "attachment": attachment.pk,
            "kind": kind,
            "name": attachment.original_name,
            "sha256": attachment.sha256,
        },
    )
    return attachment
