"""``GET /healthz/``: is this web process able to serve? For the load balancer, the container healthcheck
and monitoring (docs/operations.md). No account needed and nothing but "ok"/"down" per dependency."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        log.exception("health: the database cannot be reached")
        return False


def _queue() -> bool:
    from unionfunds.celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception as exc:
        log.error("health: the task queue cannot be reached: %s", exc)
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database(), "queue": _queue()}
    body = {name: "ok" if up else "down" for name, up in checks.items()}
    return JsonResponse(body, status=200 if all(checks.values()) else 503)
