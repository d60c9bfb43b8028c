"""Bridging service refusals onto Django forms, so pages show them where they belong."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .identifiers import mask_personal_text


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def call_service(form: forms.Form, fn: Callable[[], Any]) -> Any | None:
    """Run ``fn``; on a refusal attach its message to ``form`` and return None. Refusals may echo what
    was sent: every message goes through the one mask for ID and phone numbers."""
    try:
        return fn()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    for message in error.messages:
                        message = mask_personal_text(str(message))
                        form.add_error(target, message if target else f"{form_label(form, field)}{message}")
        else:
            for message in exc.messages:
                form.add_error(None, mask_personal_text(str(message)))
    except (ApplicationError, PermissionDenied) as exc:
        form.add_error(None, mask_personal_text(str(getattr(exc, "detail", exc))))
    return None


def form_label(form: forms.Form, field: str) -> str:
    return "" if field in ("__all__", "non_field_errors") else _("%(field)s：") % {"field": field}
