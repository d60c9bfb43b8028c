"""Loaded into a test worker with ``celery worker -I tests.evaluation.worker_hold``: makes the PDF render of
a report wait, so a test can kill the worker in the middle of a job at a moment it knows.

Only the test worker imports this module; the worker runs the production task and ``reports.generate``
unchanged, and only ``render_pdf`` (the WeasyPrint call) is wrapped. With ``REPORT_HOLD_DIR`` set, the
render writes ``<dir>/rendering-<pid>`` and waits (up to a minute) until ``<dir>/release`` exists.
"""

import os
import time
from pathlib import Path

from evaluation import reports

_render_pdf = reports.render_pdf


def _held_render_pdf(html: str):
    folder = os.environ.get("REPORT_HOLD_DIR")
    if folder:
        Path(folder, f"rendering-{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while not Path(folder, "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return _render_pdf(html)


reports.render_pdf = _held_render_pdf
