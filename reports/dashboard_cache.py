"""The dashboards' cache: expensive aggregates kept a few minutes, keyed by what they depend on.

A figure names the topics it reads ("contracts", "invoices"...). Each topic has a version token in
the cache; a write to one of the topic's models replaces the token (the receivers below, at once
and again after commit, so a page computed while the write's transaction was still open cannot
outlive it), which orphans every figure computed from older data. Invoices are written in bulk by
the billing job, which sends no signal: their version also carries the latest invoice id (one
indexed query). The key also holds the day (figures about "this month" or "today") and, for
figures with translated names, the language; the TTL bounds anything no receiver sees (raw SQL).
"""

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone, translation

TTL = 300  # seconds

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

    def get(
        self,
        name: str,
        compute: Callable[[], Any],
        *,
        topics: tuple[str, ...],
        per_language: bool = False,
        ttl: int | None = None,
    ) -> Any:
        unknown = set(topics) - set(TOPICS)
        if unknown:
            raise ValueError(f"unknown topics {unknown}")
        self._load_versions(topics)
        parts = [name, self.scope, timezone.localdate().isoformat()]
        parts += [f"{topic}={self._versions[topic]}" for topic in sorted(topics)]
        if per_language:
            parts.append(translation.get_language() or "")
        key = "dashboard:figure:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            cache.set(key, value, TTL if ttl is None else ttl)
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
