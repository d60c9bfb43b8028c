"""Production (``DEBUG`` off) does not start without Redis: the filesystem queue and a per-process cache
would let the web and the worker on different machines never meet and the survey limit count per process,
silently. ``ALLOW_NO_REDIS=1`` says on purpose that one machine runs everything without Redis."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "test-secret-key-" + "x" * 40,
    "ID_HASH_KEY": "test-id-hash-key-" + "y" * 40,
    "ALLOWED_HOSTS": "unionfunds.example.gov.cn",
}


def start(**variables) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process with exactly these variables (and PATH)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "unionfunds.settings",
        "REDIS_URL": "",  # set, so that a developer's .env cannot fill them in
        "ALLOW_NO_REDIS": "0",
        **variables,
    }
    code = "import django; django.setup(); from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_without_redis_refuses_to_start_naming_the_variable():
    result = start(**PRODUCTION)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "REDIS_URL" in result.stderr
    assert "ALLOW_NO_REDIS" in result.stderr  # and says how to run without it on purpose


def test_production_starts_with_redis_or_when_told_to_run_without():
    with_redis = start(**PRODUCTION, REDIS_URL="redis://127.0.0.1:6379/0")
    assert with_redis.returncode == 0, with_redis.stderr
    assert with_redis.stdout.strip() == "django.core.cache.backends.redis.RedisCache"
    without = start(**PRODUCTION, ALLOW_NO_REDIS="1")
    assert without.returncode == 0, without.stderr
    assert without.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"


def test_development_needs_no_redis():
    result = start(DEBUG="1")
    assert result.returncode == 0, result.stderr
