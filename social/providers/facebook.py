"""Facebook Pages through Meta's facebook-business SDK: Page insights, recommendations (while Meta
still gives them) and publishing to the Page's feed.

The account's credentials are {"access_token": <page access token>}; external_id is the Page id.
"""

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from facebook_business.adobjects.page import Page
from facebook_business.exceptions import FacebookRequestError

from sales.enums import Network
from social.metrics import GRAPH_VERSION, api_metrics
from social.providers import (
    ContentRefused,
    MetricsResult,
    MetricValue,
    PostContent,
    Provider,
    Published,
    RemoteReview,
)
from social.providers.meta import (
    GraphProvider,
    day_of,
    number,
    parse_time,
    publishing,
    read_insights,
    same_text,
    translated,
)

# Graph accepts at most 90 days per since/until insights query.
CHUNK_DAYS = 90
RATING_FIELDS = [
    "reviewer",
    "rating",
    "recommendation_type",
    "review_text",
    "created_time",
    "open_graph_story",
]
POST_FIELDS = ["id", "message", "permalink_url", "created_time"]
RECOMMENDATION_RATINGS = {"positive": 5, "negative": 1}
# Error code Graph gives for the ratings edge from v22.0 (recommendations deprecated).
DEPRECATED_CODE = 12


def chunks(since: dt.date, until: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """[since, until] cut into consecutive ranges of at most `days` days."""
    ranges = []
    start = since
    while start <= until:
        end = min(start + dt.timedelta(days=days - 1), until)
        ranges.append((start, end))
        start = end + dt.timedelta(days=1)
    return ranges


class FacebookProvider(GraphProvider, Provider):
    network = Network.FACEBOOK
    can_publish = True
    reviews_note = _(
        "Facebook no longer gives Page recommendations to applications (Graph API v22.0 and "
        "later) and none can be answered through its API: read and answer them on the Page, "
        "then mark them answered here."
    )

    @property
    def page(self) -> Page:
        return Page(self.account.external_id, api=self.api)

    # --- Metrics ---------------------------------------------------------------------------------

    def fetch_metrics(self, since: dt.date, until: dt.date) -> MetricsResult:
        mapping = api_metrics(Network.FACEBOOK, GRAPH_VERSION)
        names = [name for name in mapping if not name.startswith("field:")]
        result = MetricsResult()
        # (API metric, day) -> value: a day paged twice is counted once.
        values: dict[tuple[str, dt.date], float] = {}
        for start, end in chunks(since, until, CHUNK_DAYS):
            params = {
                "period": "day",
                "since": start.isoformat(),
                # Graph's `until` is exclusive for daily values.
                "until": (end + dt.timedelta(days=1)).isoformat(),
            }
            for item in read_insights(
                self.api, self.account.external_id, names, params, result.refused
            ):
                name = item.get("name")
                if name not in mapping or item.get("period", "day") != "day":
                    continue
                for point in item.get("values") or []:
                    day = day_of(point.get("end_time"))
                    value = number(point.get("value"))
                    if day is not None and value is not None and start <= day <= end:
                        values[(name, day)] = value
        result.values = [
            MetricValue(mapping[name], day, value) for (name, day), value in sorted(values.items())
        ]
        followers = mapping.get("page_follows", "followers")
        if not any(value.metric == followers for value in result.values):
            # Today's level of the Page field, given for the last day asked.
            with translated():
                page = self.page.api_get(fields=["followers_count"])
            count = number(page.get("followers_count"))
            if count is not None:
                result.values.append(MetricValue(followers, until, count))
        return result

    # --- Reviews ---------------------------------------------------------------------------------

    def fetch_reviews(self, since: dt.datetime | None) -> list[RemoteReview]:
        """The Page's recommendations, newest first, down to `since`. From Graph v22.0 Meta
        answers the edge with error #12 (deprecated): then there are none to give."""
        reviews: list[RemoteReview] = []
        with translated():
            try:
                for item in self.page.get_ratings(fields=RATING_FIELDS, params={"limit": 50}):
                    review = self._review(item.export_all_data())
                    if review is None:
                        continue
                    if since and review.written_at < since:
                        break
                    reviews.append(review)
            except FacebookRequestError as error:
                if error.api_error_code() == DEPRECATED_CODE:
                    return []
                raise
        return reviews

    def _review(self, item: dict) -> RemoteReview | None:
        written = parse_time(item.get("created_time"))
        if written is None:
            return None
        reviewer = item.get("reviewer") or {}
        story = item.get("open_graph_story") or {}
        story_id = str(story.get("id") or "")
        rating = item.get("rating")
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            rating = RECOMMENDATION_RATINGS.get(item.get("recommendation_type") or "")
        external_id = (
            story_id
            or f"{self.account.external_id}_{reviewer.get('id', '')}_{int(written.timestamp())}"
        )
        return RemoteReview(
            external_id=external_id,
            author=reviewer.get("name") or "",
            rating=rating,
            text=item.get("review_text") or "",
            written_at=written,
            updated_at=written,
            url=f"https://www.facebook.com/{story_id}" if story_id else "",
        )

    # --- Publishing ------------------------------------------------------------------------------

    def publish(
        self, content: PostContent, *, state: dict, checkpoint: Callable[[dict], None]
    ) -> Published:
        """Photos are uploaded unpublished and attached to one feed post. Before the feed POST,
        state["feed_sent_at"] is checkpointed; a later attempt first looks among the Page's posts
        since then for one with the same message, and returns it instead of posting again. A
        refusal of the post itself (a duplicate, an image) is ContentRefused."""
        with publishing():
            return self._publish(content, state=state, checkpoint=checkpoint)

    def _publish(
        self, content: PostContent, *, state: dict, checkpoint: Callable[[dict], None]
    ) -> Published:
        message = content.text
        if content.image_urls and content.link:
            message = f"{message}\n\n{content.link}".strip()
        if not message and not content.image_urls:
            raise ContentRefused("nothing to publish")
        sent_at = parse_time(state.get("feed_sent_at"))
        if sent_at is not None:
            found = self._find_post(message, since=sent_at - dt.timedelta(minutes=1))
            if found is not None:
                return found
        params: dict = {"message": message}
        with translated():
            if content.image_urls:
                photos = [
                    self.page.create_photo(params={"url": url, "published": False})
                    for url in content.image_urls
                ]
                params["attached_media"] = [{"media_fbid": photo["id"]} for photo in photos]
            elif content.link:
                params["link"] = content.link
        if sent_at is None:
            state["feed_sent_at"] = timezone.now().isoformat()
        checkpoint(state)
        with translated():
            post = self.page.create_feed(params=params)
        post_id = str(post["id"])
        return Published(external_id=post_id, url=f"https://www.facebook.com/{post_id}")

    def _find_post(self, message: str, *, since: dt.datetime) -> Published | None:
        with translated():
            cursor = self.page.get_posts(
                fields=POST_FIELDS, params={"since": int(since.timestamp()), "limit": 25}
            )
            for count, post in enumerate(cursor):
                if same_text(post.get("message"), message):
                    return Published(
                        external_id=str(post["id"]), url=post.get("permalink_url") or ""
                    )
                if count >= 100:
                    break
        return None
