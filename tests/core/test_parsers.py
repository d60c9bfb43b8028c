"""One JSON parser for the whole API, which refuses bodies nested deeper than any request of ours needs.

The HTTP answers are in ``test_hostile_input.py``; here: the depth measure itself, and that no API view
slips back to DRF's own parser (``ObtainAuthToken`` names it, and so may any view that sets
``parser_classes`` for an action).
"""

import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.exceptions import ParseError
from rest_framework.views import APIView

from unionfunds.core.parsers import MAX_JSON_DEPTH, JSONParser, json_depth, too_deep


def _patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_views():
    for route, callback in _patterns(get_resolver()):
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if cls is not None and issubclass(cls, APIView):
            parsers = getattr(callback, "initkwargs", {}).get("parser_classes", cls.parser_classes)
            yield route, parsers


def test_every_api_view_reads_json_with_the_depth_limited_parser():
    views = list(api_views())
    assert len(views) > 40 and any("auth/token" in route for route, _parsers in views)
    for route, parsers in views:
        json_parsers = [p for p in parsers if "json" in p.media_type]  # (the roster import takes files only)
        assert all(issubclass(p, JSONParser) for p in json_parsers), (route, json_parsers)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('{"a": [1, {"b": "]]]"}]}', 3),
        ('["\\"[[[", [[]]]', 3),
        ("[" * 100 + "]" * 100, 100),
        ("[][][][]", 1),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_too_deep_only_beyond_the_limit():
    assert not too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert too_deep("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert not too_deep("[" + ",".join(["[]"] * 1000) + "]")  # wide is fine


def parse(body: bytes):
    return JSONParser().parse(io.BytesIO(body), "application/json", {})


def test_the_parser_refuses_deep_bodies_and_reads_the_rest():
    assert parse(b'{"a": [1, 2, {"b": "c"}]}') == {"a": [1, 2, {"b": "c"}]}
    with pytest.raises(ParseError, match=str(MAX_JSON_DEPTH)):
        parse(b"[" * 5000 + b"]" * 5000)
    for bad in (b"{", b"NaN", b'{"a": Infinity}', b"\xff\xfe"):
        with pytest.raises(ParseError):
            parse(bad)


def test_the_parser_refuses_a_body_larger_than_djangos_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert parse(b'"' + b"a" * 90 + b'"') == "a" * 90
    with pytest.raises(ParseError):
        parse(b'"' + b"a" * 200 + b'"')
