"""The change feed of a list endpoint: ``?cursor=`` and ``next_cursor`` (``docs/guide/auditor.md``).

A list of a ``ChangeTracked`` model (``unionfunds.core.changes``) read without ``cursor``, ``page`` and
``ordering`` is the start of its feed; every page of the feed answers ``next_cursor``, the position to ask
from next. The feed is ordered by (change position, id) and shows only rows below the reader's horizon,
so a row written by a transaction that may still commit below what the client has seen is held back until
it is decided, never passed. A client that always sends back the ``next_cursor`` it got sees every committed
write of every row in its scope, in order, and a row again only when it was written again.

A cursor is a position, not a query: the client sends the same filters with every cursor (``next`` does).
Requests with ``page`` > 1 or an explicit ``ordering`` are the plain page-number list (``next_cursor`` is
null); ``cursor`` together with either is a 400, as is a cursor that was not issued by this endpoint.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.core import signing
from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from . import changes
from .api import Pagination
from .filters import MAX_ID

CURSOR = "cursor"
VERSION = 1


@dataclass(frozen=True, order=True)
class Position:
    """Everything at or before (``xid``, ``id``) in feed order has been delivered."""

    xid: int
    id: int

    def after(self) -> Q:
        # Written so that the (change_xid, id) index finds the start: change_xid >= xid first.
        return Q(change_xid__gte=self.xid) & (Q(change_xid__gt=self.xid) | Q(id__gt=self.id))


def _salt(label: str) -> str:
    return f"unionfunds.core.feed:{label}"


def encode_cursor(position: Position, label: str) -> str:
    """An opaque, signed cursor for the feed of model ``label`` (``app.model``)."""
    signed = signing.Signer(salt=_salt(label)).sign(f"{VERSION}.{position.xid}.{position.id}")
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def bad_cursor(message=None) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {CURSOR: [message or _("游标无效：请原样传回上一次返回的 next_cursor，或去掉 cursor 从头拉取。")]}
    )


def decode_cursor(raw: str, label: str) -> Position:
    """The position of a cursor issued for ``label``; a 400 naming ``cursor`` for anything else."""
    try:
        signed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        version, xid, pk = signing.Signer(salt=_salt(label)).unsign(signed).split(".")
        position = Position(int(xid), int(pk))
    except (binascii.Error, UnicodeError, ValueError, signing.BadSignature):
        raise bad_cursor() from None
    if version != str(VERSION) or not (0 <= position.xid <= MAX_ID and 0 <= position.id <= MAX_ID):
        raise bad_cursor()
    return position


def _orderable(view) -> bool:
    filterset = getattr(view, "filterset_class", None)
    return filterset is not None and "ordering" in filterset.base_filters


class FeedPagination(Pagination):
    """Page-number pagination (as ``Pagination``) that is also the change feed of the list's model.

    The response keeps ``count``, ``next``, ``previous`` and ``results`` and adds ``next_cursor``. In the feed,
    ``count`` is the number of rows from the cursor to the current end of the feed, ``next`` the same request
    with ``cursor=<next_cursor>`` while rows remain (null once the client has caught up) and ``previous`` null.
    """

    def start(self, queryset, request, view=None) -> Position | None:
        """Decide how the request is read: the feed's position (the start is (0, 0)), or None for pages."""
        self.request, self.feed = request, None
        params = request.query_params
        raw = params.get(CURSOR) or ""
        page = params.get(self.page_query_param) or ""
        ordering = (params.get("ordering") or "") if _orderable(view) else ""
        if raw and (page or ordering):
            raise bad_cursor(_("cursor 不能与 page 或 ordering 同时使用：游标按变更顺序逐页拉取。"))
        if raw:
            return decode_cursor(raw, queryset.model._meta.label_lower)
        return Position(0, 0) if not ordering and page in ("", "1") else None

    def paginate_queryset(self, queryset, request, view=None):
        position = self.start(queryset, request, view)
        if position is None:
            return super().paginate_queryset(queryset, request, view)
        return self._feed_page(queryset, request, position, list)

    def paginate_sliced(self, queryset, request, view=None, *, read=list):
        """The page as ``read(<slice of queryset>)``, evaluated (``read`` may turn it into plain values; each
        row must then carry ``change_xid`` and ``id``)."""
        position = self.start(queryset, request, view)
        if position is None:
            return list(read(super().paginate_sliced(queryset, request, view)))
        return self._feed_page(queryset, request, position, read)

    def _feed_page(self, queryset, request, position: Position, read) -> list:
        horizon = changes.horizon()  # before the rows: see changes.horizon
        if position.xid > horizon:
            # Cursors never pass the horizon they were issued under, and it only rises: this database's
            # positions went back (restored from a dump) or the cursor is not from here.
            raise bad_cursor(_("游标超出了本系统当前的变更位置（数据可能已恢复）：请去掉 cursor 从头拉取。"))
        size = self.get_page_size(request)
        decided = queryset.filter(position.after(), change_xid__lt=horizon)
        count = decided.count()
        rows = list(read(decided.order_by(*changes.FEED_ORDER)[:size]))
        if count > size and rows:
            last = rows[-1]
            reached = (
                Position(*(last[k] for k in changes.FEED_ORDER))
                if isinstance(last, dict)
                else Position(last.change_xid, last.pk)
            )
        elif count > size:
            reached = position  # the counted rows moved on (written again) in between: ask again from here
        else:
            # Everything decided was delivered: the next read starts at the horizon, never before the position.
            reached = max(position, Position(horizon, 0))
        self.feed = {
            "count": count,
            "next_cursor": encode_cursor(reached, queryset.model._meta.label_lower),
            "more": count > size,
        }
        return rows

    def get_paginated_response(self, data):
        if self.feed is None:
            count, url, previous, cursor = (
                self.page.paginator.count,
                self.get_next_link(),
                self.get_previous_link(),
                None,
            )
        else:
            count, url, previous, cursor = self.feed["count"], None, None, self.feed["next_cursor"]
            if self.feed["more"]:
                url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
                url = replace_query_param(url, CURSOR, cursor)
        return Response({"count": count, "next": url, "previous": previous, "next_cursor": cursor, "results": data})

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        properties = schema["properties"]
        properties["next_cursor"] = {
            "type": "string",
            "nullable": True,
            "description": "Position to send back as `cursor` for the next page of the change feed; null when "
            "the request used `page` > 1 or `ordering`.",
            "example": "MS4xMjM0LjU2OnVPa0o",
        }
        properties["results"] = properties.pop("results")
        schema["required"] = [*schema.get("required", []), "next_cursor"]
        return schema

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": CURSOR,
                "required": False,
                "in": "query",
                "description": "The `next_cursor` of the previous response: the change feed continues from there "
                "(send the same filters again). Without `cursor`, `page` and `ordering` a request is the start of "
                "the feed. Not with `page` or `ordering`.",
                "schema": {"type": "string"},
            }
        )
        return parameters
