"""Replaying the platforms' recorded answers: `responses` for the requests-based connectors (Meta
SDK, TripAdvisor), and for google-api-python-client the shared recording transport
(tests.google_replay.RecordingHttp) fed with the recorded Google answers."""

import json
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from responses import matchers

from tests.google_replay import RecordingHttp

__all__ = ["RecordingHttp", "add", "google_answer", "params", "recording", "strict_requests"]

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
