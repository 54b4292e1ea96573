"""The dashboards' cache: expensive aggregates kept a few minutes, keyed by what they depend on.

A figure names the topics it reads ("contracts", "invoices"...). Each topic has a version token in
the cache; a write to one of the topic's models replaces the token (the receivers below, at once
and again after commit, so a page computed while the write's transaction was still open cannot
outlive it). Invoices are written in bulk by the billing job, which sends no signal: their version
also carries the latest invoice id (one indexed query). A figure is stored with the versions it
was computed from (its signature) under a key holding the scope, the day (figures about "this
month" or "today") and, for figures with translated names, the language.

A figure whose signature no longer matches (a write happened, or the day changed), or older than
TTL (writes no receiver sees, raw SQL), is out of date. Where a worker runs the tasks (a broker is
configured), the page serves the out-of-date figure and has the worker compute it again (stale
while revalidating: a page right after a write costs what a cached one does, and the next page
shows the new figure); figures are kept a day for that. Without a worker, or with nothing
stored, the page computes the figure itself.
"""

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

TTL = 300  # seconds a figure is up to date at most
KEEP = 24 * 3600  # seconds an out-of-date figure is kept, to serve while it is computed again
REFRESH_LOCK = 60  # seconds one recomputation is waited for before another is asked
# None: in the background where a worker runs the tasks (not eager); tests may force it.
BACKGROUND: bool | None = None


def _clock() -> float:
    return time.time()


def refresh_in_background() -> bool:
    if BACKGROUND is not None:
        return BACKGROUND
    from comadvisor.celery import app

    return not app.conf.task_always_eager


# topic -> the models whose writes change it
TOPICS: dict[str, tuple[str, ...]] = {
    "contracts": ("sales.Contract", "sales.ContractTerm", "sales.Suspension", "sales.Pack"),
    "invoices": ("sales.Invoice",),
    "pipeline": ("sales.Opportunity",),
    "visits": ("sales.Visit",),
    "conversions": ("crm.ConversionRequest",),
    "reviews": ("social.Review", "social.ReviewTask"),
    # Sending updates the row without a signal: reports.services.report_send bumps it too.
    "reports": ("reports.MonthlyReport",),
}

_MISSING = object()


def _version_key(topic: str) -> str:
    return f"dashboard:version:{topic}"


def _token() -> str:
    return uuid.uuid4().hex[:16]


def bump(*topics: str) -> None:
    """Invalidate every cached figure that reads one of `topics`."""
    cache.set_many({_version_key(topic): _token() for topic in topics}, timeout=None)


def bump_all() -> None:
    bump(*TOPICS)


def _latest_invoice_id() -> int:
    from sales.models import Invoice

    return Invoice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


class FigureCache:
    """One per request: reads the topic versions once, then serves or computes each figure.

    `scope` names whose data the figures are ("all" for those who see every restaurant, else the
    user's id): two users share a cached figure only when they see the same rows.
    """

    def __init__(self, *, scope: str) -> None:
        self.scope = scope
        self._versions: dict[str, str] = {}

    def _load_versions(self, topics: tuple[str, ...]) -> None:
        wanted = [topic for topic in topics if topic not in self._versions]
        if not wanted:
            return
        keys = {_version_key(topic): topic for topic in wanted}
        found = cache.get_many(list(keys))
        for key, topic in keys.items():
            if key not in found:
                # A fresh token, never a reused one: figures cached under a token that was
                # evicted must not come back to life.
                cache.add(key, _token(), timeout=None)
                found[key] = cache.get(key) or _token()
            self._versions[topic] = str(found[key])
        if "invoices" in wanted:
            self._versions["invoices"] += f".{_latest_invoice_id()}"

    def key(self, name: str, *, per_language: bool = False) -> str:
        parts = [name, self.scope]
        if per_language:
            parts.append(translation.get_language() or "")
        return "dashboard:figure:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]

    def signature(self, topics: tuple[str, ...]) -> str:
        unknown = set(topics) - set(TOPICS)
        if unknown:
            raise ValueError(f"unknown topics {unknown}")
        self._load_versions(topics)
        # The day: figures about "this month" or "today" are out of date the next day.
        parts = [f"day={timezone.localdate().isoformat()}"]
        return "|".join(parts + [f"{topic}={self._versions[topic]}" for topic in sorted(topics)])

    def get(
        self,
        name: str,
        compute: Callable[[], Any],
        *,
        topics: tuple[str, ...],
        per_language: bool = False,
        ttl: int | None = None,
        refresh: Callable[[], None] | None = None,
    ) -> Any:
        """The figure: from the cache when up to date; computed now when nothing is stored;
        otherwise, with `refresh` (which asks a worker to call `store`) and a worker, the stored
        figure while the worker computes it again."""
        key = self.key(name, per_language=per_language)
        signature = self.signature(topics)
        slot = cache.get(key)
        ttl = TTL if ttl is None else ttl
        if slot is not None:
            if slot["signature"] == signature and _clock() - slot["at"] < ttl:
                return slot["value"]
            if refresh is not None and refresh_in_background():
                if cache.add(f"{key}:refreshing", 1, timeout=REFRESH_LOCK):
                    try:
                        refresh()
                    except Exception:  # the broker is down: compute it here
                        logger.exception("dashboard figure %s: refresh not queued", name)
                        cache.delete(f"{key}:refreshing")
                        return self._compute(key, signature, compute, ttl)
                return slot["value"]
        return self._compute(key, signature, compute, ttl)

    def store(
        self,
        name: str,
        compute: Callable[[], Any],
        *,
        topics: tuple[str, ...],
        per_language: bool = False,
        ttl: int | None = None,
    ) -> Any:
        """Compute the figure again and store it (the worker's side of `get`)."""
        key = self.key(name, per_language=per_language)
        try:
            # The versions are read before computing: a write meanwhile leaves it out of date.
            signature = self.signature(topics)
            return self._compute(key, signature, compute, TTL if ttl is None else ttl)
        finally:
            cache.delete(f"{key}:refreshing")

    def _compute(self, key: str, signature: str, compute: Callable[[], Any], ttl: int) -> Any:
        value = compute()
        if ttl > 0:
            cache.set(key, {"signature": signature, "at": _clock(), "value": value}, KEEP)
        return value


def _receiver(topic: str) -> Callable[..., None]:
    def invalidate(**_kwargs) -> None:
        bump(topic)
        transaction.on_commit(lambda: bump(topic))

    invalidate.__name__ = f"invalidate_{topic}"
    return invalidate


_RECEIVERS: list[Callable[..., None]] = []  # signals hold receivers weakly


def _after_conversion(**_kwargs) -> None:
    # The validation activates the prospect's draft contracts with an UPDATE (no post_save).
    bump("contracts", "conversions")


def connect() -> None:
    """Called from ReportsConfig.ready(): every process (web, worker, commands) invalidates."""
    from crm.signals import restaurant_converted

    for topic, labels in TOPICS.items():
        receiver = _receiver(topic)
        _RECEIVERS.append(receiver)
        for label in labels:
            model = apps.get_model(label)
            uid = f"dashboard-{topic}-{label}"
            post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}-delete")
    restaurant_converted.connect(_after_conversion, dispatch_uid="dashboard-conversion")
