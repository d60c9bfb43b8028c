"""Reports through Celery: a real worker process against Redis and PostgreSQL, the eager path without
one, and a broker outage (503 ``queue_unavailable``, the job failed rather than left queued).

The worker test runs only with ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set: it is a transactional
test, so the data it builds is committed and the worker (another process) reads it from the test
database, whose name pytest-django derives from the configured one (``test_<name>``).
"""

import os
import signal
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
from tests.factories import XIHU, allocate, answers
from unionfunds.celery import app as celery_app

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


def start_worker(
    log_path: Path, media_root, name: str, *, pool: str = "solo", include: str | None = None, **env
) -> subprocess.Popen:
    """A Celery worker subprocess on the test database and the configured Redis, in its own process group
    (so a test can kill it with all its pool processes, as when its machine dies)."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "unionfunds.settings",
        **env,
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "unionfunds",
        "worker",
        f"--pool={pool}",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{name}-{os.getpid()}@%h",
    ]
    if include:
        command += ["-I", include]
    log = log_path.open("a")
    try:
        return subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        log.close()  # the child keeps its own descriptor


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def worker(transactional_db, tmp_path, settings):
    """A Celery worker subprocess on the test database and the configured Redis; stopped at the end,
    before the test database is flushed."""
    celery_app.control.purge()  # nothing left over from an earlier run of another database
    log = tmp_path / "worker.log"
    process = start_worker(log, settings.MEDIA_ROOT, "uf-test")
    try:
        yield process, log
    finally:
        stop_worker(process)


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


# The test workers' visibility timeout: how long Redis keeps a delivered, unacknowledged message from
# other workers (production: CELERY_VISIBILITY_TIMEOUT, 900 s).
VISIBILITY = 3


def wait_until(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def held_report(stocked, program, tmp_path, settings):
    """A county report requested while a prefork worker (one pool process) is up whose render waits on a
    file: yields (job, worker, hold folder, log) once the render has started."""
    cast = stocked
    allocate(program, cast.union_xihu, "60000.00", "45000.00")
    round_ = services.round_create(program=program, by=cast.province)
    celery_app.control.purge()
    with celery_app.connection_for_write() as connection:  # no unacknowledged message of an earlier run
        connection.default_channel.client.delete("unacked", "unacked_index")
    hold, log = tmp_path / "hold", tmp_path / "workers.log"
    hold.mkdir()
    worker = start_worker(
        log,
        settings.MEDIA_ROOT,
        "uf-doomed",
        pool="prefork",
        include="tests.evaluation.worker_hold",
        REPORT_HOLD_DIR=str(hold),
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY),
    )
    try:
        job, created = services.report_request(kind="county", round_=round_, region=XIHU, by=cast.xihu)
        assert created
        assert wait_until(lambda: any(hold.glob("rendering-*"))), log.read_text()
        running = ReportJob.objects.get(pk=job.pk)
        assert (running.status, running.progress, running.attempts) == (JobStatus.RUNNING, 40, 1)
        yield job, worker, hold, log
    finally:
        stop_worker(worker)


def assert_done_once(job: ReportJob, log: Path) -> None:
    job = ReportJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.DONE, f"{job.status} {job.error}\n{log.read_text()}"
    assert (job.progress, job.attempts) == (100, 2)  # the killed attempt and the one that finished
    versions = ReportVersion.objects.filter(job__kind=job.kind, job__round=job.round, job__region=job.region)
    assert [v.job_id for v in versions] == [job.pk]
    assert "西湖区" in pdf_text(versions[0])


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_report_loses_no_job(held_report, settings):
    """The whole worker (main process and pool process) is SIGKILLed while the PDF renders, as when its
    machine dies. The message was never acknowledged (acks late), so Redis hands it to the next worker
    once the visibility timeout has passed; the task starts over and stores one version."""
    job, doomed, hold, log = held_report
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    assert not ReportVersion.objects.filter(job=job).exists()
    assert ReportJob.objects.get(pk=job.pk).status == JobStatus.RUNNING
    (hold / "release").touch()  # whoever renders next does not wait
    time.sleep(VISIBILITY)  # until then Redis keeps the message for the dead worker
    survivor = start_worker(log, settings.MEDIA_ROOT, "uf-survivor", CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY))
    try:
        wait_for(job.pk, timeout=60)
    finally:
        stop_worker(survivor)
    assert_done_once(job, log)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_in_the_middle_of_a_report_is_retried_at_once(held_report):
    """Only the pool process rendering the report is SIGKILLed (the kernel's OOM killer does this): the
    worker sees it lost and, as the task rejects on worker loss, puts the message back at once for a
    new pool process, without waiting for the visibility timeout."""
    job, worker, hold, log = held_report
    [rendering] = hold.glob("rendering-*")
    os.kill(int(rendering.name.split("-")[1]), signal.SIGKILL)
    (hold / "release").touch()
    wait_for(job.pk, timeout=60)
    assert worker.poll() is None, log.read_text()
    assert_done_once(job, log)
    assert "WorkerLostError" in log.read_text()


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
    # Acks late and retried: a worker killed mid-report loses no job (docs/benchmarks.md).
    assert tasks.generate_report.acks_late is True
    assert tasks.generate_report.reject_on_worker_lost is True
    assert tasks.generate_report.max_retries >= 1


@pytest.mark.django_db(transaction=True)
def test_broker_down_shows_a_clear_message_on_the_page(client, cast, program, caplog):
    round_ = services.round_create(program=program, by=cast.province)
    client.force_login(cast.xihu)
    with mock.patch.object(
        tasks.generate_report, "delay", side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6399")
    ):
        response = client.post(
            f"/evaluation/rounds/{round_.pk}/reports/", {"kind": "county", "region": XIHU}, follow=True
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert "报告生成服务暂时不可用（任务队列无法连接），请稍后再试。" in page
    assert "已提交报告生成请求" not in page
    assert "6399" not in page  # the broker's address is for the log, not for the user
    job = ReportJob.objects.get()
    assert job.status == JobStatus.FAILED
    # ... and the operators see it in the log (docs/operations.md, monitoring).
    assert f"report job {job.pk} not queued, the broker cannot be reached" in caplog.text
