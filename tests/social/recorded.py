"""Replaying the platforms' recorded answers: `responses` for the requests-based connectors (Meta
SDK, TripAdvisor), an HttpMockSequence that keeps the requests for google-api-python-client."""

import json
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from googleapiclient.http import HttpMockSequence
from responses import matchers

RECORDINGS = Path(__file__).parent / "recordings"


def recording(network: str, name: str) -> dict:
    """A recorded answer: {"status", "headers", "body"} with the body in the API's shape."""
    return json.loads((RECORDINGS / network / f"{name}.json").read_text())


def add(rsps, method: str, url: str, record: dict, **query) -> None:
    """Answer `method url` (and the query parameters given, if any) with `record`."""
    match = [matchers.query_param_matcher(query, strict_match=False)] if query else []
    rsps.add(
        method,
        url,
        json=record["body"],
        status=record["status"],
        headers=record["headers"],
        match=match,
    )


def params(call) -> dict:
    """The parameters of a replayed call (query string, or form body for a POST)."""
    source = (
        call.request.body if call.request.method == "POST" else urlsplit(call.request.url).query
    )
    if isinstance(source, bytes):
        source = source.decode()
    return {key: values[-1] for key, values in parse_qs(source or "").items()}


@contextmanager
def strict_requests():
    """Every registered answer must be used, and no request may go anywhere unregistered
    (responses refuses it, and this checks the refusal was not swallowed)."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
        unmatched = [
            call.request.url for call in rsps.calls if "registered mock" in str(call.response)
        ]
        assert unmatched == []


def google_answer(name: str) -> tuple[dict, str]:
    """A recorded Google answer as HttpMockSequence takes it: (headers with status, body)."""
    record = recording("google", name)
    return {"status": str(record["status"]), **record["headers"]}, json.dumps(record["body"])


class RecordingHttp(HttpMockSequence):
    """HttpMockSequence that keeps each request (method, path, query, body, uri); a response given
    as an exception instance is raised instead, like a dropped connection."""

    def __init__(self, answers):
        super().__init__(answers)
        self.requests = []

    def request(
        self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None
    ):
        parts = urlsplit(uri)
        self.requests.append(
            (method, parts.path, parse_qs(parts.query), json.loads(body) if body else None, uri)
        )
        if self._iterable and isinstance(self._iterable[0], BaseException):
            raise self._iterable.pop(0)
        return super().request(uri, method, body, headers, redirections, connection_type)
