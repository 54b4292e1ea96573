"""Calendar connectors behind one small interface (push a visit, delete it, pull changes).

Every failure is one of the four connector outcomes of comadvisor.connectors; SyncTokenExpired
asks the caller for a full resynchronisation.
"""

from dataclasses import dataclass
from datetime import datetime

from comadvisor.connectors import ConnectorError, NeedsReconnect, Permanent, RateLimited, RetryLater

__all__ = [
    "ConnectorError",
    "NeedsReconnect",
    "Permanent",
    "RateLimited",
    "RemoteEvent",
    "RetryLater",
    "SyncTokenExpired",
]


class SyncTokenExpired(ConnectorError):
    pass


@dataclass(frozen=True)
class RemoteEvent:
    event_id: str
    visit_id: int | None
    cancelled: bool
    start: datetime | None
    end: datetime | None
    updated: datetime
