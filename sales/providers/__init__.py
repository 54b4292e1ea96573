"""Calendar connectors behind one small interface (push a visit, delete it, pull changes).

Every failure is one of four outcomes the callers handle: RetryLater (network, 5xx),
RateLimited (until a time), NeedsReconnect (credentials no longer work), Permanent (recorded,
shown). SyncTokenExpired asks the caller for a full resynchronisation.
"""

from dataclasses import dataclass
from datetime import datetime


class CalendarError(Exception):
    pass


class RetryLater(CalendarError):
    pass


class RateLimited(CalendarError):
    def __init__(self, message: str, until: datetime):
        super().__init__(message)
        self.until = until


class NeedsReconnect(CalendarError):
    pass


class Permanent(CalendarError):
    pass


class SyncTokenExpired(CalendarError):
    pass


@dataclass(frozen=True)
class RemoteEvent:
    event_id: str
    visit_id: int | None
    cancelled: bool
    start: datetime | None
    end: datetime | None
    updated: datetime
