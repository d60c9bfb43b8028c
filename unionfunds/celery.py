"""The Celery app `unionfunds` (`celery -A unionfunds worker`)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionfunds.settings")

app = Celery("unionfunds")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_queue(sender, **kwargs):
    # kombu's filesystem transport (the default without REDIS_URL) needs its folders to exist.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_data(logger, **kwargs):
    # A worker replaces the root logger's handlers (settings.LOGGING's console and its masking filter) with
    # its own; put the filter on those too, so worker logs never carry a full ID or phone number either.
    from unionfunds.core.logging import MaskPersonalDataFilter

    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters):
            handler.addFilter(MaskPersonalDataFilter())
