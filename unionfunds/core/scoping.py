"""Fetching one object through the scope rule: in scope it is found (and locked when asked), outside it does
not exist (404). Written once for every service and page; the scope itself is each model's ``for_user``."""

from typing import TypeVar

from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

M = TypeVar("M", bound=models.Model)


def get_in_scope(queryset: models.QuerySet[M], pk, *, lock: bool = False) -> M:
    """The object ``pk`` of ``queryset`` (a scoped ``Model.objects.for_user(user)…``), else Http404.

    ``lock`` takes the row lock (``SELECT … FOR UPDATE`` of the object's own table only, so joined rows
    for display stay unlocked); callers that lock must be inside a transaction.
    """
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(
            _("%(object)s %(pk)s 不存在或不在您的管辖范围内。")
            % {"object": queryset.model._meta.verbose_name, "pk": pk}
        ) from None
