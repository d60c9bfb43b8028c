"""Reports through Celery: a real worker process against Redis and PostgreSQL, the eager path without
one, and a broker outage (503 ``queue_unavailable``, the job failed rather than left queued).

The worker test runs only with ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set: it is a transactional
test, so the data it builds is committed and the worker (another process) reads it from the test
database, whose name pytest-django derives from the configured one (``test_<name>``).
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from kombu.exceptions import OperationalError

from evaluation import services, tasks
from evaluation.choices import JobStatus
from evaluation.models import ReportJob, ReportVersion
from unionfunds.celery import app as celery_app

from .conftest import XIHU, allocate, answers

ROOT = Path(settings.BASE_DIR)


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s["PASSWORD"]:
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def pdf_text(version: ReportVersion) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", version.file.path, "-"], capture_output=True, check=True, timeout=30
    ).stdout.decode()


@pytest.fixture
def worker(transactional_db, tmp_path, settings):
    """A Celery worker subprocess on the test database and the configured Redis; stopped at the end,
    before the test database is flushed."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "unionfunds.settings",
    }
    celery_app.control.purge()  # nothing left over from an earlier run of another database
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "unionfunds",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"uf-test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, tmp_path / "worker.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def wait_for(job_id: int, timeout: float = 60) -> ReportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ReportJob.objects.get(pk=job_id)
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        time.sleep(0.25)
    return ReportJob.objects.get(pk=job_id)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_the_county_report(worker, stocked, program):
    process, log = worker
    cast = stocked
    allocate(program, cast.union_xihu, "60000.00", "45000.00")
    round_ = services.round_create(program=program, by=cast.province)
    answers(round_, cast.union_xihu, "very_satisfied", "satisfied")

    # No transaction around the call: on_commit publishes the task as report_request returns.
    job, created = services.report_request(kind="county", round_=round_, region=XIHU, by=cast.xihu)
    assert created
    again, created_again = services.report_request(kind="county", round_=round_, region=XIHU, by=cast.xihu)
    if created_again:  # only if the worker finished the first job before this line
        assert ReportJob.objects.get(pk=job.pk).status == JobStatus.DONE
    else:
        assert again.pk == job.pk

    job = wait_for(job.pk)
    assert process.poll() is None, log.read_text()
    assert job.status == JobStatus.DONE, f"{job.status} {job.error}\n{log.read_text()}"
    assert job.progress == 100 and job.attempts == 1
    version = ReportVersion.objects.get(job=job)
    text = pdf_text(version)
    assert "西湖区" in text
    for name in ("资金使用率", "接受补助工会覆盖率", "职工平均满意度"):
        assert name in text
    assert "陆万元整" in text  # 60,000.00
    assert "第 1 页" in text
    assert "generate_report" in log.read_text()


@pytest.mark.django_db(transaction=True)
def test_the_eager_path_runs_the_task_on_commit(api, world, cast):
    round_ = services.round_create(program=world.program, by=cast.province)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        response = api.as_user(cast.hangzhou).post(
            "/api/v1/reports/", {"kind": "city", "round": round_.pk, "region": "330100"}, format="json"
        )
    finally:
        celery_app.conf.task_always_eager = eager
    assert response.status_code == 202
    job = ReportJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.progress) == (JobStatus.DONE, 100)
    assert "杭州市" in pdf_text(job.version)
    download = api.as_user(cast.hangzhou).get(f"/api/v1/reports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


@pytest.mark.django_db(transaction=True)
def test_broker_down_answers_503_and_fails_the_job(api, cast, program):
    round_ = services.round_create(program=program, by=cast.province)
    body = {"kind": "county", "round": round_.pk, "region": XIHU}
    with mock.patch.object(
        tasks.generate_report, "delay", side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6399")
    ) as delay:
        response = api.as_user(cast.xihu).post("/api/v1/reports/", body, format="json")
    assert delay.call_count == 1
    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    assert response.json()["detail"]
    job = ReportJob.objects.get()
    assert job.status == JobStatus.FAILED  # not left queued: the next request makes a new job
    assert "队列" in job.error
    with mock.patch.object(tasks.generate_report, "delay") as delay:
        retry = api.as_user(cast.xihu).post("/api/v1/reports/", body, format="json")
    assert retry.status_code == 202
    assert retry.json()["id"] != job.pk and retry.json()["status"] == "queued"
    delay.assert_called_once_with(retry.json()["id"])


def test_the_task_is_declared_for_reliability():
    # Acks late and retried: a worker killed mid-report loses no job (SPEC §6).
    assert tasks.generate_report.acks_late is True
    assert tasks.generate_report.reject_on_worker_lost is True
    assert tasks.generate_report.max_retries >= 1
