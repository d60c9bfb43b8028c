"""The project's URLs plus the bare view the allocations endpoint is compared with (bench only)."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import path

from grants.models import Allocation
from unionfunds.urls import urlpatterns as project_urlpatterns

FIELDS = (
    "id", "program_id", "year", "union_id", "union__name", "union__credit_code", "county_id", "county__name",
    "city_id", "city__name", "amount", "disbursed_amount", "spent_amount", "status", "approved_at", "updated_at",
)  # fmt: skip


@login_required
def bare_allocations(request):
    """The same first 100 rows as ``GET /api/v1/allocations/?page_size=100``, as plainly as Django can."""
    rows = Allocation.objects.for_user(request.user).order_by("change_xid", "id").values(*FIELDS)[:100]
    return JsonResponse(list(rows), safe=False)


urlpatterns = [path("bench/bare-allocations/", bare_allocations), *project_urlpatterns]
