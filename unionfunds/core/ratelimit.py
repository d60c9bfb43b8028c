"""Counting requests per key in a time window, in the shared cache (Redis in production).

``hit`` counts first and compares after, in one atomic step: ``cache.add`` creates the counter with its
expiry only if it is missing, ``cache.incr`` adds one and returns the new value (Redis ``INCR`` is atomic;
Django's local-memory cache increments under a lock). Two requests can therefore never both see the last
free slot, which a read-compare-then-write sequence allows.

When the cache cannot be reached, ``hit`` fails open on purpose: the request goes on, counted in this
process's own memory instead (so the limit still holds per worker process), and a warning is logged for
the operators. A public page must not answer 500 because a counter is unavailable, and refusing every
member while Redis restarts would lose answers that cannot be asked for again.
"""

import logging

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

# Used only while the shared cache is unreachable.
_fallback = LocMemCache("unionfunds-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def _count(store, key: str, window: int) -> int:
    for _attempt in range(3):
        store.add(key, 0, timeout=window)
        try:
            count = store.incr(key)
        except ValueError:  # the counter expired between add and incr: start it again
            continue
        if count == 1:
            # This request started the window: make sure the counter expires even if another process
            # re-created it without an expiry between the two calls above.
            store.touch(key, timeout=window)
        return count
    raise RuntimeError(f"rate limit counter {key!r} keeps expiring")


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one request under ``key``; True while at most ``limit`` were counted in the ``window`` seconds."""
    try:
        count = _count(cache, key, window)
    except Exception as exc:  # any failure of the cache backend (ConnectionError, TimeoutError, …)
        logger.warning("rate limit: shared cache unavailable (%s), counting in this process only", type(exc).__name__)
        count = _count(_fallback, key, window)
    return count <= limit
