"""Google Calendar v3 through google-api-python-client (its bundled discovery document).

Each event carries the visit's id twice: in its own id ("comadvisor<visit id>", base32hex as
Google requires) so a retried insert can never create a second event, and in a private extended
property so pulled changes find their visit.
"""

import json
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from comadvisor.google_errors import google_outcome
from sales.providers import (
    NeedsReconnect,
    Permanent,
    RemoteEvent,
    RetryLater,
    SyncTokenExpired,
)

SCOPES = ["https://www.googleapis.com/auth/calendar.events"]
VISIT_PROPERTY = "comadvisorVisit"


class Conflict(Permanent):
    """409: an event with this id exists already."""


class Gone(Permanent):
    """404 or 410: the event (or, on a list, the sync token) no longer exists."""


EVENT_PREFIX = "comadvisor"


def event_id_for(visit_id: int) -> str:
    return f"{EVENT_PREFIX}{visit_id}"


def classify(error: HttpError, *, now: datetime | None = None) -> Exception:
    """Google's outcomes, with the two the calendar handles itself: an event that exists already
    (409) and one that is gone (404, 410)."""
    status = error.resp.status
    if status == 409:
        return Conflict("event already exists (409)")
    if status in (404, 410):
        return Gone(f"gone ({status})")
    return google_outcome(error, now=now)


class GoogleCalendar:
    def __init__(
        self, *, service, calendar_id: str = "primary", refresh: Callable[[], bool] | None = None
    ):
        self.service = service
        self.calendar_id = calendar_id
        # Called once on a 401: refreshes the access token, True if the request may be retried.
        self.refresh = refresh

    @classmethod
    def from_credentials(cls, *, credentials_json: str, calendar_id: str) -> "GoogleCalendar":
        from google.auth.exceptions import RefreshError
        from google.auth.transport.requests import Request
        from google.oauth2.credentials import Credentials

        credentials = Credentials.from_authorized_user_info(json.loads(credentials_json), SCOPES)
        service = build(
            "calendar", "v3", credentials=credentials, cache_discovery=False, static_discovery=True
        )

        def refresh() -> bool:
            try:
                credentials.refresh(Request())
            except RefreshError:
                return False
            return True

        calendar = cls(service=service, calendar_id=calendar_id, refresh=refresh)
        calendar.credentials = credentials
        return calendar

    def _execute(self, request):
        for attempt in range(2):
            try:
                return request.execute(num_retries=0)
            except HttpError as error:
                outcome = classify(error)
                if (
                    isinstance(outcome, NeedsReconnect)
                    and attempt == 0
                    and self.refresh
                    and self.refresh()
                ):
                    continue
                raise outcome from error
            except (OSError, TimeoutError) as error:
                raise RetryLater(f"network error: {error}") from error
        raise NeedsReconnect("Google refused the refreshed credentials (401)")

    def _body(
        self,
        *,
        visit_id: int,
        summary: str,
        description: str,
        start: datetime,
        end: datetime,
        location: str,
    ) -> dict:
        return {
            "summary": summary,
            "description": description,
            "location": location,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
            "status": "confirmed",
            "extendedProperties": {"private": {VISIT_PROPERTY: str(visit_id)}},
        }

    def upsert(
        self,
        *,
        visit_id: int,
        summary: str,
        description: str,
        start: datetime,
        end: datetime,
        location: str = "",
    ) -> str:
        """Create the visit's event, or update it when it exists (also after a lost response)."""
        event_id = event_id_for(visit_id)
        body = self._body(
            visit_id=visit_id,
            summary=summary,
            description=description,
            start=start,
            end=end,
            location=location,
        )
        events = self.service.events()
        try:
            self._execute(events.insert(calendarId=self.calendar_id, body={"id": event_id, **body}))
        except Conflict:
            # Already there (an earlier attempt went through, or the event was deleted in Google).
            self._execute(events.update(calendarId=self.calendar_id, eventId=event_id, body=body))
        return event_id

    def delete(self, *, event_id: str) -> None:
        try:
            self._execute(
                self.service.events().delete(calendarId=self.calendar_id, eventId=event_id)
            )
        except Permanent as error:
            if "404" not in str(error) and "410" not in str(error):
                raise
        except SyncTokenExpired:
            pass  # 410 Gone on delete: already deleted.

    def changes(self, *, sync_token: str) -> tuple[list[RemoteEvent], str]:
        """Events changed since `sync_token` (all events when empty) and the next token."""
        events, page_token, next_token = [], None, ""
        while True:
            params = {
                "calendarId": self.calendar_id,
                "singleEvents": True,
                "showDeleted": True,
                "maxResults": 250,
            }
            if sync_token:
                params["syncToken"] = sync_token
            if page_token:
                params["pageToken"] = page_token
            try:
                page = self._execute(self.service.events().list(**params))
            except Gone as error:
                raise SyncTokenExpired("sync token expired (410)") from error
            events += [self._remote(item) for item in page.get("items", [])]
            page_token = page.get("nextPageToken")
            if not page_token:
                next_token = page.get("nextSyncToken", "")
                break
        return events, next_token

    @staticmethod
    def _remote(item: dict) -> RemoteEvent:
        visit = (item.get("extendedProperties") or {}).get("private", {}).get(VISIT_PROPERTY)
        if not visit and item["id"].startswith(EVENT_PREFIX):
            # A deleted event comes back with its id and status only.
            visit = item["id"].removeprefix(EVENT_PREFIX)
        start = parse_datetime((item.get("start") or {}).get("dateTime", "") or "")
        end = parse_datetime((item.get("end") or {}).get("dateTime", "") or "")
        return RemoteEvent(
            event_id=item["id"],
            visit_id=int(visit) if visit and visit.isdigit() else None,
            cancelled=item.get("status") == "cancelled",
            start=start,
            end=end,
            updated=parse_datetime(item.get("updated", "")) or timezone.now(),
        )

    def credentials_json(self) -> str | None:
        credentials = getattr(self, "credentials", None)
        return credentials.to_json() if credentials is not None else None
