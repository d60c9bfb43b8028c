"""The one way to fetch an object through the scope rule: found in scope, 404 outside, locked on request."""

import pytest
from django.db import connection, transaction
from django.http import Http404

from members.models import Union
from unionfunds.core.scoping import get_in_scope


def test_an_object_in_scope_is_found_and_one_outside_does_not_exist(cast):
    assert get_in_scope(Union.objects.for_user(cast.xihu), cast.union_xihu.pk) == cast.union_xihu
    with pytest.raises(Http404) as missing:
        get_in_scope(Union.objects.for_user(cast.xihu), cast.union_yinzhou.pk)
    assert str(cast.union_yinzhou.pk) in str(missing.value) and cast.union_yinzhou.name not in str(missing.value)


@pytest.mark.parametrize("pk", ["abc", None, 10**30])
def test_a_key_that_cannot_exist_is_not_found(cast, pk):
    with pytest.raises(Http404):
        get_in_scope(Union.objects.for_user(cast.province), pk)


def test_a_lock_is_taken_inside_a_transaction(cast, django_assert_num_queries):
    assert cast.xihu.region.level  # the user's home is loaded once per request, not per fetch
    with transaction.atomic():
        with django_assert_num_queries(1) as captured:
            found = get_in_scope(Union.objects.for_user(cast.xihu), cast.union_xihu.pk, lock=True)
    assert found == cast.union_xihu
    if connection.vendor == "postgresql":  # SQLite has no row locks: it serialises writers instead
        assert 'FOR UPDATE OF "members_union"' in captured.captured_queries[0]["sql"]
