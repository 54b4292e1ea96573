"""The Celery application: settings under the CELERY_ namespace, tasks found in every app."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comadvisor.settings")

app = Celery("comadvisor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _beat_on_start(sender=None, **kwargs) -> None:
    # A fresh worker reports itself at once instead of waiting for beat's first heartbeat.
    from comadvisor.tasks import worker_heartbeat

    worker_heartbeat.delay()
