"""/health/'s publications check counts the late publications in a sentence that agrees with
the number."""

import datetime as dt

import pytest
from django.utils import timezone

from social import services


def _late_posts(by, restaurant, account, count: int) -> None:
    at = timezone.now() - dt.timedelta(minutes=30)
    for number in range(count):
        post = services.post_save(
            by=by, restaurant=restaurant, accounts=[account], text=f"p{number}"
        )
        services.post_schedule(post=post, by=by, at=at, now=at)


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (0, {"ok": True, "detail": "0 late publications"}),
        (1, {"ok": False, "detail": "1 late publication"}),
        (2, {"ok": False, "detail": "2 late publications"}),
    ],
)
def test_health_counts_late_publications_in_singular_and_plural(
    client, community_manager, bistro, facebook, late, expected
):
    _late_posts(community_manager, bistro, facebook, late)

    response = client.get("/health/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["checks"]["publications"] == expected
