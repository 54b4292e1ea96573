"""State of the services the application needs, for /health/ and the admins' dashboard."""

from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from comadvisor.models import WorkerHeartbeat


@dataclass
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"
        return Check(False, type(error).__name__)
    return Check(True, connection.vendor)


def check_cache() -> Check:
    key = "health:probe"
    try:
        cache.set(key, "1", 10)
        ok = cache.get(key) == "1"
    except Exception as error:
        return Check(False, type(error).__name__)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return Check(ok, backend if ok else "read back failed")


def check_broker() -> Check:
    if not settings.REDIS_URL:
        return Check(True, "eager")
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except redis.RedisError as error:
        return Check(False, type(error).__name__)
    return Check(True, "redis")


def check_worker() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check(True, "eager")
    try:
        last = (
            WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
        )
    except Exception as error:
        return Check(False, type(error).__name__)
    if last is None:
        return Check(False, "no heartbeat yet")
    age = timezone.now() - last
    return Check(age <= settings.WORKER_HEARTBEAT_MAX_AGE, f"last heartbeat {last.isoformat()}")


def health_report() -> dict:
    checks = {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
        "worker": check_worker(),
    }
    # Checks of the apps above this one, declared in settings so this layer imports none of them.
    for name, path in settings.HEALTH_APP_CHECKS.items():
        checks[name] = import_string(path)()
    healthy = all(check.ok for check in checks.values())
    return {
        "status": "ok" if healthy else "error",
        "checks": {name: asdict(check) for name, check in checks.items()},
    }
