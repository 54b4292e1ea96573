"""Instagram professional accounts through Meta's facebook-business SDK (Instagram API with
Facebook Login): account insights, the profile's follower count and two-phase publishing.

The account's credentials are {"access_token": <token of the linked Page>}; external_id is the
Instagram user id (the Page's instagram_business_account).
"""

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from facebook_business.adobjects.igmedia import IGMedia
from facebook_business.adobjects.iguser import IGUser
from facebook_business.adobjects.shadowigmediabuilder import ShadowIGMediaBuilder

from comadvisor.connectors import ConnectorError
from sales.enums import Network
from social.metrics import GRAPH_VERSION, api_metrics
from social.providers import (
    ContentRefused,
    MetricsResult,
    MetricValue,
    PostContent,
    Provider,
    Published,
    RateLimited,
    RetryLater,
)
from social.providers.meta import (
    GraphProvider,
    number,
    publishing,
    read_insights,
    same_text,
    translated,
)

# Instagram takes at most 10 items in a carousel.
CAROUSEL_MAX = 10
MEDIA_FIELDS = ["id", "caption", "permalink", "timestamp"]
# Recent media looked through to find a post whose publish response was lost.
RECENT_MEDIA = 50
# Posts an account may publish in a rolling 24 hours when Instagram does not say.
PUBLISHING_LIMIT = 50
PUBLISHING_LIMIT_WAIT = dt.timedelta(hours=1)


def _int_id(value: str):
    return int(value) if str(value).isdigit() else value


class InstagramProvider(GraphProvider, Provider):
    network = Network.INSTAGRAM
    can_publish = True

    @property
    def user(self) -> IGUser:
        return IGUser(self.account.external_id, api=self.api)

    # --- Metrics ---------------------------------------------------------------------------------

    def fetch_metrics(self, since: dt.date, until: dt.date) -> MetricsResult:
        """Account metrics are asked with metric_type=total_value (views, total_interactions and
        follows_and_unfollows have no other type since v22.0): one total per call, so one call
        per day. "field:" names come from the profile, today's level given for `until`."""
        mapping = api_metrics(Network.INSTAGRAM, GRAPH_VERSION)
        names = [name for name in mapping if not name.startswith("field:")]
        fields = {
            name.removeprefix("field:"): desk
            for name, desk in mapping.items()
            if name.startswith("field:")
        }
        result = MetricsResult()
        day = since
        while day <= until:
            params = {
                "period": "day",
                "metric_type": "total_value",
                "since": day.isoformat(),
                "until": (day + dt.timedelta(days=1)).isoformat(),
            }
            items = read_insights(self.api, self.account.external_id, names, params, result.refused)
            for item in items:
                name = item.get("name")
                if name not in mapping:
                    continue
                value = self._total(item)
                if value is not None:
                    result.values.append(MetricValue(mapping[name], day, value))
            day += dt.timedelta(days=1)
        if fields:
            with translated():
                profile = self.user.api_get(fields=list(fields))
            for name, desk in fields.items():
                value = number(profile.get(name))
                if value is not None:
                    result.values.append(MetricValue(desk, until, value))
        return result

    @staticmethod
    def _total(item: dict) -> float | None:
        total = item.get("total_value")
        if isinstance(total, dict):
            return number(total.get("value"))
        values = item.get("values") or []
        parts = [number(point.get("value")) for point in values]
        parts = [part for part in parts if part is not None]
        return sum(parts) if parts else None

    # --- Publishing ------------------------------------------------------------------------------

    def publish(
        self, content: PostContent, *, state: dict, checkpoint: Callable[[dict], None]
    ) -> Published:
        """Two phases. The container's id is checkpointed before its status is read, so a retry
        reuses it; its status then decides: FINISHED -> media_publish (publish_sent_at
        checkpointed first), IN_PROGRESS -> RetryLater, ERROR/EXPIRED -> forgotten (a new one next
        time), PUBLISHED -> already done: the media is looked up instead of publishing again.
        A refusal of the post itself (no image, media Instagram cannot use) is ContentRefused."""
        with publishing():
            return self._publish(content, state=state, checkpoint=checkpoint)

    def _publish(
        self, content: PostContent, *, state: dict, checkpoint: Callable[[dict], None]
    ) -> Published:
        caption = content.text
        if content.link:
            caption = f"{caption}\n\n{content.link}".strip()
        container_id = state.get("container_id")
        if not container_id:
            self._check_images(content)
            self._check_publishing_limit()
            container_id = self._create_container(content, caption)
            state["container_id"] = container_id
            checkpoint(state)
        with translated():
            container = ShadowIGMediaBuilder(container_id, api=self.api).api_get(
                fields=["id", "status_code", "status"]
            )
        status = container.get("status_code") or ""
        if status == "FINISHED":
            state["publish_sent_at"] = timezone.now().isoformat()
            checkpoint(state)
            with translated():
                media = self.user.create_media_publish(
                    params={"creation_id": _int_id(container_id)}
                )
            media_id = str(media["id"])
            return Published(external_id=media_id, url=self._permalink(media_id))
        if status == "PUBLISHED":
            found = self._find_media(caption)
            if found is None:
                raise RetryLater(
                    "Instagram published the container but the media is not listed yet"
                )
            return found
        if status == "IN_PROGRESS":
            raise RetryLater("Instagram is still processing the media")
        if status in ("ERROR", "EXPIRED"):
            state.pop("container_id", None)
            checkpoint(state)
            if status == "EXPIRED":
                raise RetryLater("the Instagram container expired; a new one will be created")
            detail = container.get("status") or "no detail"
            raise ContentRefused(f"Instagram could not process the media: {detail}")
        raise RetryLater(f"unexpected Instagram container status {status or 'none'}")

    def _check_publishing_limit(self) -> None:
        """Instagram publishes at most 50 posts per account in a rolling 24 hours: at the limit,
        no container is made for a post that could not go out (RateLimited for an hour, the
        rolling window freeing a place some time within the day)."""
        with translated():
            limits = self.user.get_content_publishing_limit(fields=["quota_usage", "config"])
        for limit in limits:
            usage = number(limit.get("quota_usage"))
            total = number((limit.get("config") or {}).get("quota_total")) or PUBLISHING_LIMIT
            if usage is not None and usage >= total:
                raise RateLimited(
                    f"Instagram publishing limit reached ({usage:.0f} of {total:.0f} posts in "
                    "24 hours)",
                    timezone.now() + PUBLISHING_LIMIT_WAIT,
                )

    @staticmethod
    def _check_images(content: PostContent) -> None:
        if not content.image_urls:
            raise ContentRefused("Instagram needs at least one image")
        if len(content.image_urls) > CAROUSEL_MAX:
            raise ContentRefused(f"Instagram takes at most {CAROUSEL_MAX} images in a post")

    def _create_container(self, content: PostContent, caption: str) -> str:
        images = list(content.image_urls)
        self._check_images(content)
        with translated():
            if len(images) == 1:
                container = self.user.create_media(
                    params={"image_url": images[0], "caption": caption}
                )
            else:
                children = [
                    str(
                        self.user.create_media(params={"image_url": url, "is_carousel_item": True})[
                            "id"
                        ]
                    )
                    for url in images
                ]
                container = self.user.create_media(
                    params={"media_type": "CAROUSEL", "children": children, "caption": caption}
                )
        return str(container["id"])

    def _permalink(self, media_id: str) -> str:
        """The post's link; the post exists whatever happens here, so a failure only costs it."""
        try:
            with translated():
                media = IGMedia(media_id, api=self.api).api_get(fields=["permalink"])
        except ConnectorError:
            return ""
        return media.get("permalink") or ""

    def _find_media(self, caption: str) -> Published | None:
        with translated():
            cursor = self.user.get_media(fields=MEDIA_FIELDS, params={"limit": 25})
            for count, media in enumerate(cursor):
                if same_text(media.get("caption"), caption):
                    return Published(external_id=str(media["id"]), url=media.get("permalink") or "")
                if count + 1 >= RECENT_MEDIA:
                    break
        return None
