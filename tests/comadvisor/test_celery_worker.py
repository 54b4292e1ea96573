"""A real Celery worker process, through the real Redis broker (the PostgreSQL + Redis CI run)."""

import datetime as dt
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.result import allow_join_result
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from comadvisor.tasks import ping
from crm.models import Contact, ContactLink
from reports import services, tasks
from reports.models import MonthlyReport, ReportStatus
from sales.models import add_months, first_of_month
from social.models import MetricSnapshot
from tests.factories import UserFactory
from tests.social.conftest import make_account, make_bistro

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(**env: str):
    """A worker of its own queue (yielded), stopped afterwards; `env` adds to its environment."""
    if not settings.REDIS_URL:
        if os.environ.get("CI") == "true" and os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REDIS_URL is not set in the run that must test the broker")
        pytest.skip("REDIS_URL not set: the embedded mode has no broker to test")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "comadvisor", "worker",
            "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
            "-Q", queue, "-n", f"{queue}@%h", "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "comadvisor.settings", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker():
    yield from _start_worker()


def test_task_goes_through_redis_to_a_worker_and_comes_back(worker):
    payload = uuid.uuid4().hex

    result = ping.apply_async(args=[payload], queue=worker)

    # This test runs outside any task, but Celery's process-wide "inside a task" flag may have
    # been left set by eager tasks that earlier tests ran in several threads at once (each run
    # restores the value it saw on entry), so it is cleared for the wait.
    with allow_join_result():
        assert result.get(timeout=60) == f"pong:{payload}"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@pytest.fixture
def report_worker(transactional_db, tmp_path, settings):
    """A worker on the test's database (committed rows: a transactional test), its PDFs in the
    test's media folder and its e-mails written as files."""
    url = urlsplit(settings.DATABASE_URL)
    database = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    settings.MEDIA_ROOT = tmp_path / "media"
    mails = tmp_path / "mails"
    yield from _start_worker(
        DATABASE_URL=database, MEDIA_ROOT=str(settings.MEDIA_ROOT), EMAIL_URL=f"file:///{mails}"
    )


def test_a_report_batch_runs_through_a_real_worker_to_its_end(report_worker, tmp_path, monkeypatch):
    # The e-mail templates come from a migration; an earlier transactional test flushed them.
    defaults = importlib.import_module("reports.migrations.0002_defaults")
    defaults.create(apps, SimpleNamespace(connection=connection))
    manager = UserFactory(username="cm_worker", roles=["community_manager"])
    bistro = make_bistro(
        community_manager=manager,
        review_manager=UserFactory(username="rm_worker", roles=["review_manager"]),
        client_manager=UserFactory(username="clm_worker", roles=["client_manager"]),
    )
    ContactLink.objects.create(
        restaurant=bistro, role="owner",
        contact=Contact.objects.create(last_name="Martin", email="paul@bistro.example"),
    )  # fmt: skip
    month = add_months(first_of_month(timezone.localdate()), -1)
    MetricSnapshot.objects.create(
        account=make_account(bistro, "facebook"), metric="reach",
        day=month + dt.timedelta(days=2), value=40,
    )  # fmt: skip
    [report] = services.month_drafts_create(month=month)
    sent = []

    def to_the_test_worker(batch_id):
        sent.append(tasks.run_report_batch.apply_async(args=[batch_id], queue=report_worker))

    monkeypatch.setattr(tasks.run_report_batch, "delay", to_the_test_worker)

    batch = services.batch_start(user=manager)  # autocommit: its task is sent at once

    [result] = sent
    with allow_join_result():  # see the test above
        assert result.get(timeout=120) == 1
    batch.refresh_from_db()
    assert (batch.total, batch.done, batch.failed, batch.skipped) == (1, 1, 0, 0)
    assert batch.finished_at is not None and batch.error == "" and batch.percent == 100
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT and report.times_sent == 1
    assert report.sent_by == manager and report.sent_to == "paul@bistro.example"
    assert report.pdf.storage.exists(report.pdf.name)
    [mail] = [path.read_text() for path in (tmp_path / "mails").iterdir()]
    assert "To: paul@bistro.example" in mail and f'filename="{report.filename}"' in mail
    assert MonthlyReport.objects.count() == 1
