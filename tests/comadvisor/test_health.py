from datetime import timedelta

import pytest
from django.utils import timezone

from comadvisor import tasks
from comadvisor.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_health_in_eager_mode_reports_every_check(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.REDIS_URL = ""

    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "worker", "publications"}
    assert body["checks"]["worker"] == {"ok": True, "detail": "eager"}


def test_health_fails_without_worker_heartbeat(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "detail": "no heartbeat yet"}


def test_health_fails_when_heartbeat_is_stale(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=timezone.now() - timedelta(minutes=10))

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_health_ok_with_fresh_heartbeat(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=timezone.now())

    assert client.get("/health/").json()["checks"]["worker"]["ok"] is True


def test_health_reports_unreachable_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "detail": "ConnectionError"}


def test_heartbeat_task_records_the_worker_once(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    tasks.worker_heartbeat.delay()
    tasks.worker_heartbeat.delay()

    assert WorkerHeartbeat.objects.count() == 1


def test_heartbeat_is_scheduled_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="comadvisor.tasks.worker_heartbeat")

    assert (task.enabled, task.interval.every, task.interval.period) == (True, 60, "seconds")
