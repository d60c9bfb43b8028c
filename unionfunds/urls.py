from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider.views import TokenView
from rest_framework.routers import DefaultRouter

from evaluation import api as evaluation_api
from grants import api as grants_api
from members import account_views
from members import api as members_api
from unionfunds.core.apidocs import ApiDocsView
from unionfunds.core.auth import ObtainTokenView
from unionfunds.core.health import healthz

handler404 = "unionfunds.core.api.not_found"

router = DefaultRouter()
router.register("regions", members_api.RegionViewSet, basename="region")
router.register("unions", members_api.UnionViewSet, basename="union")
router.register(r"unions/(?P<union_pk>\d+)/members", members_api.UnionMemberViewSet, basename="union-member")
router.register("programs", grants_api.ProgramViewSet, basename="program")
router.register("applications", grants_api.ApplicationViewSet, basename="application")
router.register("allocations", grants_api.AllocationViewSet, basename="allocation")
router.register("evaluation-rounds", evaluation_api.RoundViewSet, basename="evaluation-round")
router.register("self-assessments", evaluation_api.AssessmentViewSet, basename="self-assessment")
router.register("spot-checks", evaluation_api.SpotCheckViewSet, basename="spot-check")
router.register("reports", evaluation_api.ReportViewSet, basename="report")

api_v1 = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    # Outside systems' keys: only the token endpoint of django-oauth-toolkit (client credentials), none of
    # its pages for managing applications (members/clients.py).
    path("o/token/", TokenView.as_view(), name="oauth-token"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", account_views.admin_login, name="admin-login"),  # before the admin's own: two steps
    path("admin/", admin.site.urls),
    path("", include("members.urls")),
    path("", include("grants.urls")),
    path("", include("evaluation.urls")),
]
