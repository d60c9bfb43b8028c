"""One active membership per person in the province holds under concurrent requests (PostgreSQL).

Run: DATABASE_URL=postgres://... pytest tests/members/test_races.py --create-db
"""

import datetime as dt
import random
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from members import fakes, services
from members.models import Member, Union, User
from unionfunds.core.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def add_concurrently(attempts, number: str) -> list:
    """Run member_add for the same person in every (union, user) of ``attempts`` at the same moment."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list = [None] * len(attempts)

    def attempt(index: int, union, by) -> None:
        try:
            data = {
                "name": "并发测试",
                "id_number": number,
                "group": "food_delivery",
                "joined_on": dt.date(2024, 5, 1),
            }
            barrier.wait(timeout=10)
            outcomes[index] = services.member_add(union=union, data=data, by=by)
        except Exception as exc:  # collected and asserted on in the main thread
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i, union, by)) for i, (union, by) in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_same_person_into_different_unions_at_once_only_one_wins(cast, round_):
    number = fakes.id_number(random.Random(f"race-{round_}"))
    digest = services.hash_id_number(number)
    attempts = [
        (cast.union_xihu, cast.xihu),
        (cast.union_xihu_other, User.objects.get(pk=cast.xihu.pk)),  # own instance per thread
        (cast.union_yuhang, cast.yuhang),
        (cast.union_yinzhou, cast.yinzhou),
    ]

    outcomes = add_concurrently(attempts, number)

    winners = [o for o in outcomes if isinstance(o, Member)]
    losers = [o for o in outcomes if not isinstance(o, Member)]
    assert len(winners) == 1, outcomes
    assert len(losers) == len(attempts) - 1
    assert all(isinstance(o, ValidationError) for o in losers), losers
    winner_union = winners[0].union
    for (_union, by), refusal in zip(attempts, outcomes, strict=True):
        if isinstance(refusal, Member):
            continue
        # The winner is named only to a loser whose scope holds it (Xihu's two unions for Xihu).
        message = refusal.message_dict["id_number"][0]
        named = Union.objects.for_user(by).filter(pk=winner_union.pk).exists()
        assert (winner_union.name in message) == named, message
        assert named or "省内其他工会" in message

    assert Member.objects.active().filter(id_number_hash=digest).count() == 1
    assert Member.objects.filter(id_number_hash=digest).count() == 1
    assert AuditEvent.objects.filter(action="member.add").count() == 1
