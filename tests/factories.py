"""factory_boy factories. Identifiers are valid (checksums) and unique per sequence number."""

import datetime as dt
import random

import factory

from members import fakes
from members.choices import OrgForm, ParentLevel, UnionStatus, WorkerGroup
from members.models import Member, Region, Union
from members.services import hash_id_number
from unionfunds.core.identifiers import mask_id_number


def valid_id_number(n: int) -> str:
    return fakes.id_number(random.Random(f"id-{n}"))


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Union

    name = factory.Sequence(lambda n: f"测试新就业形态联合工会{n}")
    credit_code = factory.LazyAttributeSequence(lambda o, n: fakes.credit_code(random.Random(f"cc-{n}"), o.county.code))
    org_form = OrgForm.JOINT_UNION
    county = factory.LazyFunction(lambda: Region.objects.get(code="330106"))
    parent_level = ParentLevel.TOWNSHIP
    covered_groups = Union.encode_groups([WorkerGroup.FOOD_DELIVERY, WorkerGroup.COURIER])
    chair_name = "王芳"
    chair_elected_on = dt.date(2023, 3, 1)
    chair_term_years = 5
    committee_size = 5
    founded_on = dt.date(2022, 12, 1)
    funds_hard_to_guarantee = True
    status = UnionStatus.VERIFIED


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        exclude = ["id_number"]
        skip_postgeneration_save = True  # the hook below writes the union, not the member

    union = factory.SubFactory(UnionFactory)
    name = factory.Sequence(lambda n: f"会员{n}")
    id_number = factory.Sequence(valid_id_number)
    id_number_hash = factory.LazyAttribute(lambda o: hash_id_number(o.id_number))
    id_number_masked = factory.LazyAttribute(lambda o: mask_id_number(o.id_number))
    gender = factory.LazyAttribute(lambda o: "M" if int(o.id_number[16]) % 2 else "F")
    phone = "13812345678"
    group = WorkerGroup.FOOD_DELIVERY
    platform = "美团"
    joined_on = dt.date(2024, 1, 15)

    @factory.post_generation
    def recount(obj, create, extracted, **kwargs):
        # The members services keep Union.member_count; rows made here bypass them.
        if create:
            Union.objects.filter(pk=obj.union_id).refresh_member_counts()


def leave(member: Member, on) -> None:
    """Record that ``member`` left, behind the services' back (setup only), keeping the union's count true."""
    Member.objects.filter(pk=member.pk).update(left_on=on)
    Union.objects.filter(pk=member.union_id).refresh_member_counts()


def lockout(username: str, failures: int = 5):
    """The django-axes record of ``username`` locked out after ``failures`` wrong passwords from 10.0.0.1."""
    from axes.models import AccessAttempt
    from django.utils import timezone

    return AccessAttempt.objects.create(
        username=username,
        ip_address="10.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        failures_since_start=failures,
    )
