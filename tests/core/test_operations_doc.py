"""docs/operations.md lists every environment variable the settings read."""

import re
from pathlib import Path

from django.conf import settings

SETTINGS = Path(settings.BASE_DIR, "unionfunds", "settings.py")
MANUAL = Path(settings.BASE_DIR, "docs", "operations.md")
READ = re.compile(r'(?:env\.\w+|env|_required|_networks)\(\s*"([A-Z][A-Z0-9_]*)"')


def test_the_settings_read_the_variables_this_test_finds():
    names = set(READ.findall(SETTINGS.read_text()))
    assert {"SECRET_KEY", "ID_HASH_KEY", "DATABASE_URL", "TRUSTED_PROXIES", "CELERY_VISIBILITY_TIMEOUT"} <= names


def test_every_variable_the_settings_read_is_in_the_operations_manual():
    manual = MANUAL.read_text()
    missing = sorted(name for name in set(READ.findall(SETTINGS.read_text())) if f"| `{name}` |" not in manual)
    assert not missing, f"add these to the table of docs/operations.md: {missing}"
