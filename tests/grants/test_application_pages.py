"""What the review queue and the application page tell a clerk (fixes found walking the journey):
today's eligibility in the queue, rule names instead of codes, who acts next, the approved amount."""

import re

import pytest
from django.urls import reverse

from grants import services
from grants.models import Application
from members.choices import UnionStatus
from members.services import union_verify
from tests.factories import add_members, make_application, make_program, staff

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def text(response) -> str:
    return text_of(response.content.decode())


@pytest.fixture
def pending_application(cast):
    """Submitted while the union was still pending: recorded as not eligible."""
    add_members(cast.union_xihu, 160)
    cast.union_xihu.refresh_from_db()
    cast.union_xihu.status = UnionStatus.PENDING
    cast.union_xihu.save()
    program = make_program(cast.province, name="新业态基层工会专项经费（页面测试）")
    application = make_application(program, cast.union_xihu, until="submitted")
    assert application.eligible is False
    return application


def queue_rows(response) -> str:
    page = response.content.decode()
    return text_of(page[page.index('<table class="data" id="queue">') :])


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_queue_shows_todays_eligibility_once_the_union_is_verified(client, cast, pending_application):
    client.force_login(cast.xihu)
    queue = reverse("application-queue")
    assert "不符合" in queue_rows(client.get(queue))
    union_verify(union=cast.union_xihu, by=cast.xihu)
    rows = queue_rows(client.get(queue))
    assert "不符合" not in rows and "符合" in rows
    # The record is unchanged until the next transition records it again.
    assert Application.objects.get(pk=pending_application.pk).eligible is False


def test_the_checklist_names_the_rules_in_words(client, cast, pending_application):
    client.force_login(cast.officer)
    page = client.get(reverse("application-detail", args=[pending_application.pk])).content.decode()
    checklist = page[page.index('id="eligibility"') : page.index("</ul>", page.index('id="eligibility"'))]
    for label in ("已核实", "会员人数", "主席依法选举", "工会骨干人数", "每个项目限申请一次"):
        assert label in checklist
    assert "<code>" not in checklist  # the API's rule codes are not words for a clerk
    assert 'title="min_members"' in checklist


def test_a_submitter_is_not_told_it_cannot_approve(client, cast):
    add_members(cast.union_xihu, 160)
    cast.union_xihu.refresh_from_db()
    cast.union_xihu.status = UnionStatus.PENDING
    cast.union_xihu.save()
    program = make_program(cast.province)
    draft = make_application(program, cast.union_xihu)
    client.force_login(cast.officer)
    page = text(client.get(reverse("application-detail", args=[draft.pk])))
    assert "不能批准" not in page
    assert "仍可提交和推荐" in page


def test_the_page_says_who_acts_next(client, cast, pending_application):
    client.force_login(cast.officer)
    url = reverse("application-detail", args=[pending_application.pk])
    assert "下一步：等待县（市、区）总工会办理" in text(client.get(url))
    union_verify(union=cast.union_xihu, by=cast.xihu)
    services.application_transition(application=pending_application, action="recommend", by=cast.xihu)
    assert "下一步：等待市总工会办理" in text(client.get(url))
    client.force_login(cast.xihu)  # acted already: nothing to do, told who is next too
    assert "下一步：等待市总工会办理" in text(client.get(url))
    client.force_login(cast.hangzhou)  # the one who acts sees the buttons, not the hint
    assert "下一步" not in text(client.get(url))


def test_the_queue_shows_the_approved_amount(client, cast):
    add_members(cast.union_xihu, 160)
    program = make_program(cast.province)
    make_application(program, cast.union_xihu, until="approved", requested="60000.00", approved="45000.00")
    client.force_login(staff("330000"))
    page = text(client.get(reverse("application-queue") + f"?program={program.pk}&status=approved"))
    assert "60,000.00" in page and "45,000.00" in page
