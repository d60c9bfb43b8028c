"""Writing the audit trail (docs/benchmarks.md). Services call ``audit_record`` inside their transaction.

The request's IP reaches the trail through a context variable set by ``AuditContextMiddleware``,
so services never take a request.
"""

import contextvars
import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models

from .identifiers import mask_personal_text
from .models import AuditEvent

client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def _masked(value: Any) -> Any:
    """Every string of a payload through the one mask: file names, comments and repr come from users."""
    if isinstance(value, str):
        return mask_personal_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """Field values worth recording; callers choose the fields (never raw ID or phone numbers)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = _jsonable(getattr(obj, field.attname))
    return out


def audit_record(
    *, action: str, obj: models.Model, by, before: dict | None = None, after: dict | None = None
) -> AuditEvent:
    """The one way into the trail. The trail cannot be cleaned afterwards, so whatever personal number a
    user typed into a recorded string (a file name, a comment, a name) is masked here, on the way in."""
    return AuditEvent.objects.create(
        actor=by if getattr(by, "pk", None) else None,
        actor_username=getattr(by, "username", "") or "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=mask_personal_text(str(obj))[:255],
        before=_masked(_jsonable(before)) if before is not None else None,
        after=_masked(_jsonable(after)) if after is not None else None,
        ip=client_ip.get(),
    )
