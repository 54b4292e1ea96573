"""Replaying recorded answers to google-api-python-client (the Calendar and Business Profile
connectors): googleapiclient's HttpMockSequence, keeping each request for the test to check."""

import json
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from googleapiclient.http import HttpMockSequence


class Request(NamedTuple):
    method: str
    # The URL's path, without the `base` the transport was given.
    path: str
    query: dict[str, list[str]]
    body: object
    uri: str


class RecordingHttp(HttpMockSequence):
    """HttpMockSequence that keeps each request (a Request); an answer given as an exception
    instance is raised instead, like a dropped connection. `base` ("/calendar/v3/") is cut from
    the paths kept, so tests name the resources as the API documents them."""

    def __init__(self, answers, *, base: str = ""):
        super().__init__(answers)
        self.base = base
        self.requests: list[Request] = []

    def request(
        self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None
    ):
        parts = urlsplit(uri)
        path = parts.path.split(self.base, 1)[-1] if self.base else parts.path
        self.requests.append(
            Request(method, path, parse_qs(parts.query), json.loads(body) if body else None, uri)
        )
        if self._iterable and isinstance(self._iterable[0], BaseException):
            raise self._iterable.pop(0)
        return super().request(uri, method, body, headers, redirections, connection_type)
