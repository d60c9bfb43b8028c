"""The public survey page's rate limit counts per client address (unionfunds/core/clientip.py): behind a
trusted proxy each member's own address, and a forged X-Forwarded-For never resets the count."""

import ipaddress
import logging
from unittest.mock import patch

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from evaluation import services
from evaluation.models import SurveyResponse
from tests.factories import allocate

PROXY = "10.0.0.5"


@pytest.fixture
def link(stocked, program, settings):
    settings.SURVEY_ANSWERS_PER_IP_PER_HOUR = 2
    cache.clear()
    allocate(program, stocked.union_xihu, "60000.00")
    round_ = services.round_create(program=program, by=stocked.province)
    invite = services.survey_invite(round_=round_, union=stocked.union_xihu, by=stocked.xihu)
    yield f"/s/{invite.token}/"
    cache.clear()


def answer(url: str, **meta) -> int:
    """One member on a new phone: open the page (device cookie), then answer."""
    phone = Client()
    phone.get(url, **meta)
    return phone.post(url, {"answer": "satisfied"}, **meta).status_code


def test_the_limit_counts_per_address(link):
    assert [answer(link, REMOTE_ADDR="203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert answer(link, REMOTE_ADDR="203.0.113.8") == 200
    assert SurveyResponse.objects.count() == 3


def test_a_forged_forwarded_header_does_not_reset_the_count(link, settings):
    settings.TRUSTED_PROXIES = []
    codes = [answer(link, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}") for n in range(3)]
    assert codes == [200, 200, 429]


def test_behind_the_trusted_proxy_members_are_counted_apart(link, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]
    one = [answer(link, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7") for _ in range(3)]
    other = answer(link, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert (one, other) == ([200, 200, 429], 200)  # not one shared count for everyone behind the proxy


# ---------------------------------------------------------------- the counter itself

DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def test_with_the_cache_down_the_answer_is_still_taken_and_the_operators_are_told(link, caplog):
    """Fail open, deliberately: a member's answer is accepted (never a 500), the limit is still counted in
    the process's own memory, and a warning names the problem."""
    with override_settings(CACHES=DOWN), caplog.at_level(logging.WARNING):
        codes = [answer(link, REMOTE_ADDR="203.0.113.9") for _ in range(3)]
    assert codes == [200, 200, 429]
    assert SurveyResponse.objects.count() == 2
    assert any("cache unavailable" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_the_limit_is_checked_and_counted_in_one_step(link, settings):
    """A second answer arriving while the first is still being saved must already see the first one counted:
    a check now and a count later let both through (61 answers where 60 is the limit)."""
    settings.SURVEY_ANSWERS_PER_IP_PER_HOUR = 1
    real = services.survey_answer_public
    overlapping = []

    def first_answer_still_saving(**kwargs):
        if not overlapping:
            overlapping.append(None)
            overlapping[0] = answer(link, REMOTE_ADDR="203.0.113.7")  # another phone, same address
        return real(**kwargs)

    with patch.object(services, "survey_answer_public", first_answer_still_saving):
        first = answer(link, REMOTE_ADDR="203.0.113.7")
    assert (first, overlapping) == (200, [429])
    assert SurveyResponse.objects.count() == 1
