"""Plausible, deterministic data for the embedded default, so the desk can be tried without any
credentials. Every figure is a pure function of (account, day): fetching twice gives the same
numbers, and tests can assert them. Pages label it "demo data"."""

import datetime as dt
import hashlib
import math

from django.utils import timezone

from sales.enums import Network
from social.metrics import desk_metrics_of
from social.providers import (
    MetricsResult,
    MetricValue,
    PostContent,
    Provider,
    Published,
    RemoteReview,
    replies_through_api,
)

EPOCH = dt.date(2024, 1, 1)

# Per desk metric: (daily base, weekly swing); actual values vary around them by account and day.
BASES = {
    "new_followers": (4, 0.5),
    "reach": (900, 0.35),
    "views": (1600, 0.35),
    "interactions": (75, 0.45),
    "bookings": (6, 0.6),
    "food_orders": (4, 0.6),
    "menu_clicks": (25, 0.4),
    "calls": (5, 0.5),
    "website_clicks": (14, 0.4),
    "directions": (18, 0.4),
}

REVIEWS = {
    "fr": [
        (5, "Excellent accueil, plats délicieux et service rapide. Je recommande !"),
        (5, "Une adresse parfaite pour déjeuner, tout était savoureux."),
        (4, "Très bon repas, un peu d'attente mais personnel sympa."),
        (4, "Bonne cuisine maison, cadre agréable."),
        (3, "Correct sans plus, les desserts étaient bons mais le plat un peu froid."),
        (2, "Déçu : service lent et plat tiède."),
        (1, "Très mauvaise expérience, serveur impoli. À éviter."),
    ],
    "en": [
        (5, "Amazing food and friendly staff, we will come back!"),
        (5, "Lovely place, delicious dishes and great wine list."),
        (4, "Good food, nice terrace, a bit noisy at lunch."),
        (3, "Fine overall, but the fries were cold."),
        (2, "Disappointing, we waited 40 minutes for the main course."),
        (1, "Awful service and overpriced. Avoid."),
    ],
}
AUTHORS = ["Camille D.", "Julien M.", "Sophie L.", "Thomas B.", "Emma R.", "Lucas P.", "Chloé G.",
           "James W.", "Olivia S.", "Hugo F.", "Léa V.", "Noah K."]  # fmt: skip


def _unit(*parts) -> float:
    """A stable pseudo-random number in [0, 1) from the given parts."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class DemoProvider(Provider):
    is_demo = True
    can_publish = True

    @property
    def can_reply(self) -> bool:
        # As on the real platforms: only Google Business Profile takes replies through its API.
        return replies_through_api(self.account.network)

    @property
    def network(self) -> str:
        return self.account.network

    def _followers(self, day: dt.date) -> int:
        """A level that grows every day: at least 0.6 a day, and the wobble (at most 4/17 a day)
        never outweighs it, so each month ends above where it began."""
        key = self.account.external_id
        start = 300 + int(_unit(key, "start") * 4000)
        growth = 0.6 + _unit(key, "growth") * 3
        days = (day - EPOCH).days
        return int(start + growth * days + 4 * math.sin(days / 17))

    def _daily(self, metric: str, day: dt.date) -> int:
        key = self.account.external_id
        base, swing = BASES[metric]
        size = 0.5 + _unit(key, "size") * 1.5
        # A slow upward trend, busier weekends, and day-to-day noise.
        trend = 1 + (day - EPOCH).days / 1500
        weekly = 1 + swing * (0.6 if day.weekday() >= 4 else -0.2)
        noise = 0.75 + _unit(key, metric, day) * 0.5
        return max(0, round(base * size * trend * weekly * noise))

    def fetch_metrics(self, since: dt.date, until: dt.date) -> MetricsResult:
        result = MetricsResult()
        names = desk_metrics_of(self.account.network)
        day = since
        while day <= until:
            for name in names:
                value = self._followers(day) if name == "followers" else self._daily(name, day)
                result.values.append(MetricValue(name, day, float(value)))
            day += dt.timedelta(days=1)
        return result

    def fetch_reviews(self, since: dt.datetime | None) -> list[RemoteReview]:
        if self.account.network not in (Network.GOOGLE, Network.FACEBOOK, Network.TRIPADVISOR):
            return []
        key = self.account.external_id
        today = timezone.localdate()
        first = max(EPOCH, (since.date() if since else today - dt.timedelta(days=120)))
        reviews = []
        day = first
        while day <= today:
            # About one review every five days, more for busy places.
            if _unit(key, "review", day) < 0.12 + _unit(key, "size") * 0.12:
                language = "en" if _unit(key, "lang", day) < 0.3 else "fr"
                choices = REVIEWS[language]
                # Most reviews are good; the index leans towards the first entries.
                index = min(int(_unit(key, "pick", day) ** 1.8 * len(choices)), len(choices) - 1)
                rating, text = choices[index]
                hour = 11 + int(_unit(key, "hour", day) * 10)
                written = dt.datetime.combine(day, dt.time(hour, 17), tzinfo=dt.UTC)
                if (since and written <= since) or written > timezone.now():
                    day += dt.timedelta(days=1)
                    continue
                reviews.append(
                    RemoteReview(
                        external_id=f"demo-{key}-{day:%Y%m%d}",
                        author=AUTHORS[int(_unit(key, "author", day) * len(AUTHORS))],
                        rating=rating,
                        text=text,
                        language=language,
                        written_at=written,
                        updated_at=written,
                        url="",
                    )
                )
            day += dt.timedelta(days=1)
        return reviews

    def reply(self, review_external_id: str, text: str) -> None:
        """Demo replies are accepted as a platform would; nothing leaves the machine."""

    def publish(self, content: PostContent, *, state: dict, checkpoint) -> Published:
        """Demo publications succeed without leaving the machine; the id is stable per content,
        so a retry returns the same post."""
        digest = hashlib.sha256(
            "|".join((self.account.external_id, content.text, content.link)).encode()
        ).hexdigest()[:16]
        return Published(external_id=f"demo-{digest}")
