"""What ``make run`` sets up on a fresh Debian machine is enough for the PDF reports to keep their Chinese:
the Makefile installs the runtime system packages before serving, and a report rendered here embeds a CJK
font (``pdffonts``) and reads back in Chinese (``pdftotext``). ``make test`` installs poppler-utils, so in CI
these checks always run."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from evaluation import reports, services
from evaluation.models import ReportVersion
from tests.factories import XIHU

MAKEFILE = Path(settings.BASE_DIR, "Makefile")
RUNTIME = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk"}


def make_variable(text: str, name: str) -> set[str]:
    return set(re.search(rf"^{name} := (.+)$", text, re.M).group(1).split())


def prerequisites(text: str, target: str) -> list[str]:
    return re.search(rf"^{target}: ([^#\n]*)", text, re.M).group(1).split()


def test_make_run_installs_the_runtime_system_packages_first():
    text = MAKEFILE.read_text()
    assert make_variable(text, "RUNTIME_PACKAGES") == RUNTIME
    assert "chromium" not in make_variable(text, "RUNTIME_PACKAGES")  # only what serving needs
    assert prerequisites(text, "run")[0] == "rundeps"
    assert "$(RUNTIME_PACKAGES)" in re.search(r"^rundeps:.*\n\t(.+)$", text, re.M).group(1)
    assert "$(RUNTIME_PACKAGES)" in re.search(r"^sysdeps:.*\n\t(.+)$", text, re.M).group(1)


@pytest.mark.skipif(
    not (shutil.which("pdffonts") and shutil.which("pdftotext")),
    reason="needs poppler-utils (pdffonts, pdftotext); make test installs it",
)
def test_a_county_report_embeds_a_cjk_font_and_keeps_its_chinese_title(bare_round, cast):
    job, _ = services.report_request(kind="county", round_=bare_round, region=XIHU, by=cast.xihu)
    reports.generate(job.pk)
    path = ReportVersion.objects.get(job=job).file.path
    fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True, timeout=30).stdout
    # name  type  encoding  emb sub uni object ID — one line per font; the CJK one must be embedded (subset)
    cjk = [line for line in fonts.splitlines()[2:] if "CJK" in line.split()[0]]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk), fonts
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert "杭州市西湖区总工会" in text
    assert "新业态基层工会专项经费绩效自评报告" in text
