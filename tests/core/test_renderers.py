"""The API's spreadsheet renderers: a list's export passes through as built; an error answered to a client
that asked for a spreadsheet comes back as a sheet of (field, message) rows, formula starts neutralised."""

import csv
import io

import openpyxl

from unionfunds.core.renderers import CSVRenderer, XLSXRenderer, error_rows

ERRORS = {"page_size": ["必须是 1 到 500 之间的整数。"], "detail": '=HYPERLINK("http://x")', "cursor": ["a", "b"]}


def test_built_exports_pass_through_unchanged():
    body = b"\xef\xbb\xbfid\r\n1\r\n"
    assert CSVRenderer().render(body) is body
    assert XLSXRenderer().render(body) is body


def test_error_rows_join_each_fields_messages():
    assert error_rows(ERRORS) == [
        ("page_size", "必须是 1 到 500 之间的整数。"),
        ("detail", '=HYPERLINK("http://x")'),
        ("cursor", "a b"),
    ]
    assert error_rows(None) == []


def test_errors_as_csv():
    text = CSVRenderer().render(ERRORS).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["field", "message"]
    assert rows[1] == ["page_size", "必须是 1 到 500 之间的整数。"]
    assert rows[2] == ["detail", '\'=HYPERLINK("http://x")']  # never a formula in the client's spreadsheet


def test_errors_as_xlsx():
    sheet = openpyxl.load_workbook(io.BytesIO(XLSXRenderer().render(ERRORS)), read_only=True).active
    assert sheet.title == "errors"
    rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ("field", "message")
    assert rows[3] == ("cursor", "a b")
    assert rows[2][1].startswith("'=")
