import re

from django.urls import path, re_path

from . import views
from .workflows import ASSESSMENT_WORKFLOW

# The actions an assessment's page may post: those of the workflow table.
ASSESSMENT_ACTIONS = "|".join(re.escape(action) for action in ASSESSMENT_WORKFLOW.actions)

urlpatterns = [
    path("evaluation/", views.overview, name="evaluation"),
    path("evaluation/rounds/new/", views.round_create, name="round-create"),
    path("evaluation/rounds/<int:pk>/city-summary/", views.city_summary, name="city-summary"),
    path("evaluation/rounds/<int:pk>/spot-check/", views.spot_check_draw, name="spot-check-draw"),
    path("evaluation/rounds/<int:pk>/reports/", views.report_request, name="report-request"),
    path("evaluation/rounds/<int:pk>/surveys/", views.survey_links, name="survey-links"),
    path("evaluation/rounds/<int:pk>/surveys/paper/", views.survey_paper, name="survey-paper"),
    path("evaluation/rounds/<int:pk>/surveys/import/", views.survey_import, name="survey-import"),
    path("evaluation/rounds/<int:pk>/surveys/<int:union_pk>/invite/", views.survey_invite, name="survey-invite"),
    path("evaluation/assessments/<int:pk>/", views.assessment_detail, name="assessment-detail"),
    re_path(
        rf"^evaluation/assessments/(?P<pk>\d+)/(?P<action>{ASSESSMENT_ACTIONS})/$",
        views.assessment_action,
        name="assessment-action",
    ),
    path("evaluation/assessments/<int:pk>/evidence/", views.evidence_upload, name="evidence-upload"),
    path(
        "evaluation/assessments/<int:pk>/evidence/<int:evidence_pk>/",
        views.evidence_download,
        name="evidence-download",
    ),
    path("evaluation/spot-checks/<int:pk>/", views.spot_check_verify, name="spot-check-verify"),
    path("evaluation/reports/<int:pk>/download/", views.report_download, name="report-download"),
    path("s/<str:token>/", views.survey, name="survey"),
]
