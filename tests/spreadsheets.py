"""Spreadsheets built in tests: real .xlsx files from openpyxl, their sheet XML edited afterwards to say
what an attacker's file says, and a way to read one in a child process whose memory is bounded."""

import io
import multiprocessing
import re
import resource
import tracemalloc
import zipfile

from openpyxl import Workbook

from unionfunds.core.tables import TableError

MB = 1024 * 1024
BUDGET = 50 * MB  # what reading one crafted file may cost
HEADER = ["姓名", "身份证号", "性别", "手机号", "群体", "平台或单位", "入会日期"]


def workbook(rows: dict[int, list]) -> bytes:
    """A real .xlsx written by openpyxl with ``rows`` (sheet row number -> values)."""
    book = Workbook()
    sheet = book.active
    for number, values in rows.items():
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edit_sheet(content: bytes, edit) -> bytes:
    """The same workbook with its first sheet's XML passed through ``edit`` (bytes -> bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def declaring(content: bytes, ref: str) -> bytes:
    edited = edit_sheet(
        content, lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), xml)
    )
    assert f'<dimension ref="{ref}"'.encode() in zipfile.ZipFile(io.BytesIO(edited)).read("xl/worksheets/sheet1.xml")
    return edited


def crafted(last_row: int, header: list | None = None) -> bytes:
    """The probe's file: a header, one cell in row ``last_row``, a declared dimension as wide as Excel allows."""
    return declaring(workbook({1: header or HEADER, last_row: ["张三"]}), f"A1:XFD{last_row}")


def _child(read, content, conn):
    # A bounded reader needs a few MB; one that trusts the file wants GBs and should fail here, not take
    # the machine: the child gets a few hundred MB more address space than it starts with, no more.
    with open("/proc/self/status") as status:
        vm = int(next(line for line in status if line.startswith("VmSize:")).split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + 400 * MB, resource.getrlimit(resource.RLIMIT_AS)[1]))
    tracemalloc.start()
    try:
        outcome = f"read {read(content)}"
    except MemoryError:
        outcome = "MemoryError"
    except TableError as exc:
        outcome = f"refused: {exc}"
    conn.send((outcome, tracemalloc.get_traced_memory()[1]))


def read_in_child(read, content: bytes, *, timeout: float = 120) -> tuple[str, int]:
    """(what happened, peak bytes traced) of ``read(content)`` in a forked child."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(read, content, send))
    child.start()
    try:
        assert receive.poll(timeout), "the reader neither finished nor failed in time"
        return receive.recv()
    finally:
        child.join(5)
        if child.is_alive():
            child.kill()
