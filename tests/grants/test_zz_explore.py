from .allocation_helpers import API, approve


def test_x(stocked, program, api):
    a = approve(program, stocked.union_xihu)
    c = api.as_user(stocked.province)
    for q in [
        "min_amount=1e400",
        "min_amount=NaN",
        "min_amount=Infinity",
        "max_amount=99999999999999999999",
        "program=99999999999999999999999",
        "union=99999999999999999999999",
        "year=99999999999999999999999",
        "year=1.5",
        "updated_after=2026-11-23T10:00:00",
        "updated_after=2026-11-23",
        "updated_after=99999-01-01T00:00:00",
        "page=abc",
        "page_size=abc",
        "ordering=-approved_amount,id",
        "min_amount=-5",
        "city=%00",
        "county=x%00y",
    ]:
        try:
            r = c.get(API + "/?" + q)
            print(q, r.status_code, r.content[:150].decode(errors="replace"))
        except Exception as e:
            print(q, "EXC", repr(e)[:200])
    for q in [
        "summary/?program=99999999999999999999999",
        "summary/?program=%EF%BC%91",
        "summary/?group_by=category",
        f"{a.pk}/?status=foo",
        "abc/",
        "99999999999999999999999/",
    ]:
        try:
            r = c.get(API + "/" + q)
            print(q, r.status_code, r.content[:150].decode(errors="replace"))
        except Exception as e:
            print(q, "EXC", repr(e)[:200])
