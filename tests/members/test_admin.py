from members.models import User
from tests.factories import MemberFactory


def test_the_admin_shows_members_masked_and_cannot_change_them(client, cast):
    member = MemberFactory(union=cast.union_xihu, id_number="330106199003071236", phone="13912345678")
    operator = User.objects.create_superuser("ops", password="Ops-pass-2026!")
    client.force_login(operator)
    for url in ("/admin/members/member/", f"/admin/members/member/{member.pk}/change/"):
        body = client.get(url).content.decode()
        assert member.id_number_masked in body
        assert "330106199003071236" not in body
        assert "13912345678" not in body and "139****5678" in body
    assert client.post(f"/admin/members/member/{member.pk}/change/", {"name": "改名"}).status_code == 403
    assert client.post(f"/admin/members/member/{member.pk}/delete/", {"post": "yes"}).status_code == 403
    member.refresh_from_db()
    assert member.name != "改名"
