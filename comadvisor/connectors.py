"""The four outcomes every external connector reports its failures as (DESIGN §6).

Callers handle exactly these: RetryLater (network fault, 5xx: try again with backoff),
RateLimited (quota: wait until `until`), NeedsReconnect (the credentials no longer work: flag the
account and tell people once), Permanent (bad content, missing permission: record and show).
"""

from datetime import datetime


class ConnectorError(Exception):
    pass


class RetryLater(ConnectorError):
    pass


class RateLimited(ConnectorError):
    def __init__(self, message: str, until: datetime):
        super().__init__(message)
        self.until = until


class NeedsReconnect(ConnectorError):
    pass


class Permanent(ConnectorError):
    pass
