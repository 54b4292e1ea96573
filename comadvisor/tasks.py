from celery import shared_task
from django.utils import timezone

from comadvisor.models import WorkerHeartbeat


@shared_task(ignore_result=True)
def worker_heartbeat() -> None:
    """Record that a worker ran a task just now (beat sends this every minute)."""
    hostname = worker_heartbeat.request.hostname or "eager"
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": timezone.now()}
    )


@shared_task
def ping(payload: str) -> str:
    """Echo: proves a message travels to a worker and its result comes back."""
    return f"pong:{payload}"
