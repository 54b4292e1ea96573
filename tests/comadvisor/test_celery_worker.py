"""A real Celery worker process, through the real Redis broker (the PostgreSQL + Redis CI run)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery.result import allow_join_result
from django.conf import settings

from comadvisor.tasks import ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
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
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "comadvisor.settings"},
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


def test_task_goes_through_redis_to_a_worker_and_comes_back(worker):
    payload = uuid.uuid4().hex

    result = ping.apply_async(args=[payload], queue=worker)

    # This test runs outside any task, but Celery's process-wide "inside a task" flag may have
    # been left set by eager tasks that earlier tests ran in several threads at once (each run
    # restores the value it saw on entry), so it is cleared for the wait.
    with allow_join_result():
        assert result.get(timeout=60) == f"pong:{payload}"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
