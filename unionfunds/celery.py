"""The Celery app `unionfunds` (`celery -A unionfunds worker`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionfunds.settings")

app = Celery("unionfunds")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
