"""Social connectors: one module per network behind one small interface.

A provider is built for one account and may:
- fetch_metrics(since, until): daily values of the desk's metrics (social.metrics), with the
  metrics the platform refused listed apart, so one refused metric does not lose the others;
- fetch_reviews(since): the reviews written or changed since a moment (None: all it can give);
- reply(review_external_id, text): answer a review, where the platform allows it (`can_reply`);
- publish(...): publish a post, where it allows it (`can_publish`).

Every failure is one of the four outcomes of comadvisor.connectors.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from comadvisor.connectors import NeedsReconnect, Permanent, RateLimited, RetryLater
from sales.enums import Network

__all__ = [
    "REVIEW_NETWORKS",
    "ContentRefused",
    "MetricValue",
    "MetricsResult",
    "NeedsReconnect",
    "NotConnected",
    "Permanent",
    "PostContent",
    "Published",
    "RateLimited",
    "RemoteReview",
    "RetryLater",
    "provider_class",
    "provider_for",
    "replies_through_api",
    "reviews_note",
]


@dataclass(frozen=True)
class MetricValue:
    metric: str
    day: dt.date
    value: float


@dataclass
class MetricsResult:
    values: list[MetricValue] = field(default_factory=list)
    # desk or API metric name -> why the platform refused it
    refused: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteReview:
    external_id: str
    author: str
    rating: int | None
    text: str
    written_at: dt.datetime
    updated_at: dt.datetime
    url: str = ""
    language: str = ""
    reply_text: str = ""
    replied_at: dt.datetime | None = None
    # False where the platform's terms forbid keeping the text (TripAdvisor).
    storable: bool = True


@dataclass(frozen=True)
class PostContent:
    text: str
    link: str = ""
    # Public URLs of the images (Instagram fetches media from a public URL).
    image_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Published:
    external_id: str
    url: str = ""


class Provider:
    network: str = ""
    can_reply = False
    can_publish = False
    is_demo = False
    # Whether fetched reviews carry the owner's reply made on the platform (reply_text).
    replies_in_reviews = False
    # Shown on the review page when the network gives no reviews at all, or no reply endpoint.
    reviews_note = ""

    def __init__(self, account):
        self.account = account

    def fetch_metrics(self, since: dt.date, until: dt.date) -> MetricsResult:
        return MetricsResult()

    def fetch_reviews(self, since: dt.datetime | None) -> list[RemoteReview]:
        return []

    def reply(self, review_external_id: str, text: str) -> None:
        raise Permanent("this network has no reply endpoint")

    def publish(
        self, content: PostContent, *, state: dict, checkpoint: Callable[[dict], None]
    ) -> Published:
        """Publish `content` once. `state` is what earlier attempts of this publication left
        (empty on the first); a provider records its progress in it and calls `checkpoint(state)`,
        which persists it, *before* each request whose effect could be lost with its response,
        so a retry after a timeout finds the post (or the Instagram container) instead of
        creating a second one."""
        raise Permanent("this network has no publishing endpoint")


# The networks that give reviews (Instagram has none): the daily review job calls only these.
REVIEW_NETWORKS = frozenset({Network.FACEBOOK, Network.GOOGLE, Network.TRIPADVISOR})


class ContentRefused(Permanent):
    """The platform refused the post itself (a duplicate, an image it cannot use, nothing to
    publish, a text too long): a permanent error of that publication, which says nothing of the
    account's health (its other posts go out), so it is not recorded on the account."""


class NotConnected(NeedsReconnect):
    """The account has no credentials (never connected, or disconnected from the desk)."""


def replies_through_api(network: str) -> bool:
    """Only Google Business Profile takes review replies through its API; the page shows the
    send button from this, without building a connector."""
    return network == Network.GOOGLE


def provider_class(network: str) -> type[Provider] | None:
    """The connector class of `network` (None without one), imported only when asked: the SDKs
    behind it load with it."""
    if network == Network.FACEBOOK:
        from social.providers.facebook import FacebookProvider

        return FacebookProvider
    if network == Network.INSTAGRAM:
        from social.providers.instagram import InstagramProvider

        return InstagramProvider
    if network == Network.GOOGLE:
        from social.providers.google import GoogleProvider

        return GoogleProvider
    if network == Network.TRIPADVISOR:
        from social.providers.tripadvisor import TripadvisorProvider

        return TripadvisorProvider
    return None


def reviews_note(network: str) -> str:
    """What `network` allows for reviews where that is less than fetching them all and replying
    (empty otherwise), in the active language. Shown wherever someone would wonder why a review
    is missing or has no send button: the queue, the review, the restaurant's accounts. A demo
    account shows its network's note too: the desk treats it as it treats the real platform."""
    cls = provider_class(network)
    return str(cls.reviews_note) if cls is not None and cls.reviews_note else ""


def provider_for(account) -> Provider:
    """The provider that serves `account`: the demo one only for a demo account without
    credentials, the network's own one otherwise."""
    if account.demo and not account.credentials:
        from social.providers.demo import DemoProvider

        return DemoProvider(account)
    cls = provider_class(account.network)
    if cls is None:
        raise Permanent(f"no connector for {account.network}")
    if account.network == Network.TRIPADVISOR:
        # No per-account credentials: the company's API key serves every location.
        from django.conf import settings

        if not settings.TRIPADVISOR_API_KEY:
            raise NeedsReconnect("no TripAdvisor API key configured")
    elif not account.credentials:
        raise NotConnected("the account is not connected")
    return cls(account)
