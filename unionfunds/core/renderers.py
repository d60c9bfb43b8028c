"""The API's spreadsheet formats: ``?format=csv`` and ``?format=xlsx`` of a list.

A list view builds the export itself (``unionfunds.core.exports``) and answers it as bytes, which these
renderers pass through; anything else they are asked to render is an error body (``{field: messages}``),
written as a small sheet of (field, message) rows so a client that asked for a spreadsheet still reads why.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from .exports import to_csv, to_xlsx

ERROR_HEADERS = ["field", "message"]


def error_rows(data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [(k, " ".join(map(str, v if isinstance(v, list) else [v]))) for k, v in (data or {}).items()]


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        return to_csv(ERROR_HEADERS, error_rows(data))


class XLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        return to_xlsx(ERROR_HEADERS, error_rows(data), sheet_title="errors")


SPREADSHEET_RENDERERS = (CSVRenderer, XLSXRenderer)
