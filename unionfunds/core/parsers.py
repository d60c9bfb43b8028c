"""The API's one JSON parser: DRF's, refusing bodies nested deeper than any request of ours needs.

Python's JSON decoder recurses once per level, so a body of a few kilobytes nested 5,000 levels deep
raised RecursionError inside DRF's parser, which only turns ``ValueError`` into a 400: the client got a
500, on every JSON endpoint including the unauthenticated token endpoint. The depth is measured on the
text before decoding (strings skipped, no recursion), so such a body is a 400 ``{"detail"}`` at once.

``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]`` names this class; a view that sets ``parser_classes`` itself
must use it too (a test walks every API view).
"""

import json
import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

# Our deepest request body is three levels ({"adjustments": {"coverage": {"score": …}}}); room to spare.
MAX_JSON_DEPTH = 32
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar), without parsing it."""
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def too_deep(text: str) -> bool:
    # Counting brackets is an upper bound of the depth, and enough for nearly every body.
    return text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_depth(text) > MAX_JSON_DEPTH


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        # DRF reads the body as a stream, past Django's own limit on request bodies: apply it here.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(_("请求内容过大：最多 %(size)d 字节。") % {"size": limit})
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(_("JSON 解析错误：%(error)s") % {"error": exc}) from None
        if too_deep(text):
            raise ParseError(_("JSON 嵌套过深：最多 %(depth)d 层。") % {"depth": MAX_JSON_DEPTH})
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("JSON 解析错误：%(error)s") % {"error": exc}) from None
