from members.models import Union


def test_cast_scopes(cast):
    assert set(Union.objects.for_user(cast.province)) == {
        cast.union_xihu,
        cast.union_xihu_other,
        cast.union_yuhang,
        cast.union_yinzhou,
    }
    assert set(Union.objects.for_user(cast.hangzhou)) == {cast.union_xihu, cast.union_xihu_other, cast.union_yuhang}
    assert set(Union.objects.for_user(cast.xihu)) == {cast.union_xihu, cast.union_xihu_other}
    assert list(Union.objects.for_user(cast.officer)) == [cast.union_xihu]
    assert set(Union.objects.for_user(cast.city_auditor)) == {cast.union_xihu, cast.union_xihu_other, cast.union_yuhang}
