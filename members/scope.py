"""The scope rule of docs/rules.md §1, written once.

A user sees and acts only on objects inside their region's subtree: the province everything under
it (which is everything: one province per installation), a city its counties, a county its own
unions, a union officer their own union. Each model's
``for_user`` turns this into a filter by giving the path from the model to its county region and,
where it has one, to its union. Objects outside the scope are simply not in the queryset, so views
that fetch through it answer 404 and lists never show them.
"""

from django.db.models import Q

from .choices import RegionLevel, Role

NOTHING = Q(pk__in=[])
# The province's scope. There is exactly one province per installation (``region_one_province``), so its
# subtree holds every region: no filter, and no joins up the region tree for the busiest users.
EVERYTHING = Q()


def scope_q(user, *, county: str, union: str | None = None, city: str | None = None) -> Q:
    """Filter selecting the objects in ``user``'s scope.

    ``county`` is the lookup path from the model to its county (e.g. ``"union__county"``), ``union``
    the path to its union (e.g. ``"union"``, or ``"pk"`` for the union itself). A model that records its
    city too (allocations do) may give ``city``: the same scope with one join fewer.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "role", ""):
        return NOTHING
    if user.role == Role.UNION_OFFICER:
        if union is None or user.union_id is None:
            return NOTHING
        return Q(**{union: user.union_id})
    region = user.region
    if region is None:
        return NOTHING
    if region.level == RegionLevel.COUNTY:
        return Q(**{f"{county}_id": region.code}) if not county.endswith("_id") else Q(**{county: region.code})
    if region.level == RegionLevel.CITY:
        return Q(**{f"{city}_id": region.code}) if city else Q(**{f"{county}__parent_id": region.code})
    return EVERYTHING  # the one province (a constraint on Region): every object is in its subtree


def region_scope_q(user, *, path: str = "") -> Q:
    """Regions inside the user's subtree (``path`` leads from the model to a region)."""
    prefix = f"{path}__" if path else ""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "role", ""):
        return NOTHING
    if user.role == Role.UNION_OFFICER:
        return Q(**{f"{prefix}code": user.union.county_id}) if user.union_id else NOTHING
    region = user.region
    if region is None:
        return NOTHING
    if region.level == RegionLevel.PROVINCE:
        return EVERYTHING
    return (
        Q(**{f"{prefix}code": region.code})
        | Q(**{f"{prefix}parent_id": region.code})
        | Q(**{f"{prefix}parent__parent_id": region.code})
    )
