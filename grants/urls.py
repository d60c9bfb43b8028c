import re

from django.urls import path, re_path

from . import views
from .workflows import ACTIONS

# One URL per action of the workflow tables.
ACTION_PATTERN = "|".join(map(re.escape, ACTIONS))

urlpatterns = [
    path("applications/", views.queue, name="application-queue"),
    path("applications/new/", views.application_create, name="application-create"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application-edit"),
    re_path(
        rf"^applications/(?P<pk>\d+)/(?P<action>{ACTION_PATTERN})/$",
        views.application_action,
        name="application-action",
    ),
    path("applications/<int:pk>/attachments/", views.attachment_upload, name="attachment-upload"),
    path(
        "applications/<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path("allocations/", views.allocation_list, name="allocation-list"),
    path("allocations/<int:pk>/", views.allocation_detail, name="allocation-detail"),
    path("allocations/<int:pk>/disbursements/", views.disbursement_create, name="disbursement-create"),
    path("allocations/<int:pk>/expenditures/", views.expenditure_create, name="expenditure-create"),
    path(
        "allocations/<int:pk>/expenditures/<int:expenditure_pk>/voucher/",
        views.voucher_download,
        name="voucher-download",
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("programs/", views.program_list, name="program-list"),
    path("programs/new/", views.program_create, name="program-create"),
    path("programs/<int:pk>/", views.program_detail, name="program-detail"),
]
