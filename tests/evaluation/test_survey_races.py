"""The survey's rate limit under concurrency, on Redis: many phones behind one address answer at the same
moment and exactly the limit gets through (a check-then-count let 61 through where 60 was the limit).

Run: DATABASE_URL=postgres://... REDIS_URL=redis://.../<n> pytest tests/evaluation/test_survey_races.py --create-db
"""

import threading
import uuid

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client

from evaluation import services
from evaluation.models import SurveyResponse
from tests.factories import allocate
from unionfunds.core import ratelimit

PHONES = 12
LIMIT = 5


def at_once(count: int, fn) -> list:
    """``fn(index)`` in ``count`` threads released together; results (or exceptions) by index."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(index: int) -> None:
        try:
            outcomes[index] = fn(index, barrier)
        except Exception as exc:  # asserted on in the main thread
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.redis
def test_the_counter_lets_exactly_the_limit_through():
    assert isinstance(caches["default"], RedisCache)
    key = f"test-rate:{uuid.uuid4()}"

    def hit(index, barrier):
        barrier.wait(timeout=10)
        return ratelimit.hit(key, limit=LIMIT, window=60)

    outcomes = at_once(30, hit)
    assert outcomes.count(True) == LIMIT and outcomes.count(False) == 30 - LIMIT, outcomes
    redis = cache._cache.get_client(key)
    assert 0 < redis.ttl(cache.make_and_validate_key(key)) <= 60  # the counter expires


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_phones_answering_at_once_from_one_address_get_exactly_the_limit(stocked, program, settings):
    assert isinstance(caches["default"], RedisCache)
    settings.SURVEY_ANSWERS_PER_IP_PER_HOUR = LIMIT
    allocate(program, stocked.union_xihu, "60000.00")
    round_ = services.round_create(program=program, by=stocked.province)
    url = f"/s/{services.survey_invite(round_=round_, union=stocked.union_xihu, by=stocked.xihu).token}/"

    def phone(index, barrier):
        client = Client(REMOTE_ADDR="203.0.113.50")
        client.get(url)  # the device cookie
        barrier.wait(timeout=10)
        return client.post(url, {"answer": "satisfied"}).status_code

    codes = at_once(PHONES, phone)
    assert sorted(codes) == [200] * LIMIT + [429] * (PHONES - LIMIT), codes
    assert SurveyResponse.objects.filter(round=round_).count() == LIMIT
