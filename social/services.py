"""Every write of the social desk: account health, metric snapshots, reviews and their tasks,
replies."""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from accounts.models import User
from comadvisor.connectors import ConnectorError, NeedsReconnect, Permanent, RateLimited, RetryLater
from comadvisor.emails import email_send
from comadvisor.fields import decrypt, encrypt
from crm import services as crm_services
from crm.models import Restaurant
from sales.enums import Network
from sales.selectors import restaurants_with_service
from social import quotas
from social.business_hours import add_business_hours
from social.enums import AccountState, ErrorCode, PostStatus, PublicationState, TaskState
from social.models import (
    MetricSnapshot,
    Post,
    PostImage,
    Publication,
    Review,
    ReviewTask,
    SocialAccount,
    SocialProfile,
    SocialSettings,
)
from social.posting import ImageInfo, can_publish_to, post_problems
from social.providers import ContentRefused, NotConnected, PostContent, RemoteReview, provider_for
from social.quotas import BudgetExhausted
from social.sentiment import sentiment_of

logger = logging.getLogger(__name__)


def social_settings() -> SocialSettings:
    return SocialSettings.load()


# --- Account health ----------------------------------------------------------------------------


class UnexpectedFailure(Permanent):
    """A connector raised something that is none of the four outcomes (a KeyError reading an
    answer, a bug): a permanent error whose detail is the exception's type and words, the
    traceback going to the log. Without it such a failure would escape the records: a
    publication left "publishing" forever, a fetch failing without a trace on the account."""

    @classmethod
    def of(cls, error: Exception, *, doing: str, account_id: int) -> "UnexpectedFailure":
        """Log `error` (call it inside the except block, where the traceback is) and wrap it."""
        logger.exception("%s of social account %s failed unexpectedly", doing, account_id)
        return cls(f"{type(error).__name__}: {error}"[:500])


def as_outcome(error: Exception, *, doing: str, account_id: int) -> ConnectorError:
    """A provider's failure as one of the four outcomes, an unexpected one logged and wrapped."""
    if isinstance(error, ConnectorError):
        return error
    return UnexpectedFailure.of(error, doing=doing, account_id=account_id)


def error_code_of(error: ConnectorError) -> str:
    """The outcome's code (social.enums.ErrorCode), shown translated; str(error) is the detail."""
    if isinstance(error, UnexpectedFailure):
        return ErrorCode.UNEXPECTED
    if isinstance(error, BudgetExhausted):
        return ErrorCode.BUDGET
    if isinstance(error, RateLimited):
        return ErrorCode.RATE_LIMITED
    if isinstance(error, NotConnected):
        return ErrorCode.DISCONNECTED
    if isinstance(error, NeedsReconnect):
        return ErrorCode.NEEDS_RECONNECT
    if isinstance(error, RetryLater):
        return ErrorCode.RETRY_LATER
    return ErrorCode.PERMANENT


def error_text(error: ConnectorError) -> str:
    """A failure as a page shows it at once: its outcome's label in the reader's language, then
    the platform's own words (untranslated) in brackets."""
    label = str(ErrorCode(error_code_of(error)).label)
    detail = str(error).strip()
    return f"{label} ({detail})" if detail else label


def account_record_failure(*, account: SocialAccount, error: ConnectorError) -> str:
    """Record a connector failure on the account and return the outcome's state.

    Reconnect needed flags the account and e-mails its community manager and the admins once
    (until it is reconnected); a rate limit records until when; a permanent error is kept as the
    last error; retry-later leaves the state alone but records the error. The error is kept as
    its outcome's code (shown translated) and the platform's words."""
    now = timezone.now()
    fields = {
        "last_error_code": error_code_of(error),
        "last_error": str(error)[:500],
        "last_error_at": now,
    }
    notify = False
    if isinstance(error, NeedsReconnect):
        fields["state"] = AccountState.NEEDS_RECONNECT
        notify = account.reconnect_notified_at is None
        if notify:
            fields["reconnect_notified_at"] = now
    elif isinstance(error, RateLimited):
        fields["state"] = AccountState.RATE_LIMITED
        fields["rate_limited_until"] = error.until
    elif isinstance(error, Permanent):
        fields["state"] = AccountState.ERROR
    with transaction.atomic():
        if notify:
            # Claim the notification in the database: two workers failing at once send it once.
            claimed = SocialAccount.objects.filter(
                pk=account.pk, reconnect_notified_at__isnull=True
            ).update(**fields)
            if not claimed:
                notify = False
                fields.pop("reconnect_notified_at")
                SocialAccount.objects.filter(pk=account.pk).update(**fields)
        else:
            SocialAccount.objects.filter(pk=account.pk).update(**fields)
        for name, value in fields.items():
            setattr(account, name, value)
        if notify:
            transaction.on_commit(lambda: _notify_reconnect(account))
    return account.state


def _notify_reconnect(account: SocialAccount) -> None:
    restaurant = account.restaurant
    recipients = {user.pk: user for user in User.objects.filter(is_superuser=True, is_active=True)}
    manager = restaurant.community_manager
    if manager and manager.is_active:
        recipients[manager.pk] = manager
    url = f"{settings.SITE_URL}{reverse('social:restaurant_social', args=[restaurant.pk])}"
    for user in recipients.values():
        with translation.override(user.language or settings.LANGUAGE_CODE):
            # The outcome in the reader's language, then the platform's own words.
            error = " ".join(
                part
                for part in (str(account.get_last_error_code_display()), account.last_error)
                if part
            )
            network = str(account.get_network_display())
        email_send(
            key="social-reconnect-needed",
            to=[user.email],
            language=user.language,
            context={
                "network": network,
                "account": account.name,
                "name": restaurant.name,
                "error": error,
                "url": url,
            },
        )


def _record_success(account: SocialAccount, field: str) -> None:
    """A call went through: the account is healthy and its last error is over (its time stays,
    for the record)."""
    now = timezone.now()
    fields = {field: now}
    if account.state != AccountState.OK or account.rate_limited_until:
        fields |= {"state": AccountState.OK, "rate_limited_until": None}
    if account.last_error or account.last_error_code:
        fields |= {"last_error": "", "last_error_code": ""}
    SocialAccount.objects.filter(pk=account.pk).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)


def account_reconnected(*, account: SocialAccount, credentials: str, by: User) -> SocialAccount:
    """New credentials from the platform's OAuth flow: the account is healthy again and will warn
    once more if it breaks later."""
    account.credentials = credentials
    account.demo = False
    account.state = AccountState.OK
    account.last_error = ""
    account.last_error_code = ""
    account.rate_limited_until = None
    account.reconnect_notified_at = None
    account.full_clean()
    account.save()
    crm_services.activity_record(
        restaurant=account.restaurant,
        by=by,
        subject=_("%(network)s account connected: %(name)s")
        % {"network": account.get_network_display(), "name": account.name},
    )
    return account


def _ready(account: SocialAccount) -> bool:
    """Accounts waiting for a reconnection or inside a rate-limit window are not called."""
    if account.state == AccountState.NEEDS_RECONNECT:
        return False
    return not account.is_rate_limited


# --- Metrics -------------------------------------------------------------------------------------


@dataclass
class FetchOutcome:
    stored: int = 0
    refused: dict | None = None
    error: str = ""
    skipped: bool = False
    # A rate limit's end: the job tries the account again then.
    retry_at: dt.datetime | None = None


def metrics_fetch(
    *, account: SocialAccount, since: dt.date | None = None, until: dt.date | None = None
) -> FetchOutcome:
    """Fetch and store daily snapshots for [since, until] (by default the last few days, which the
    platforms still settle). Re-fetching a day replaces its values, never adds a second row."""
    if not _ready(account):
        return FetchOutcome(skipped=True)
    until = until or timezone.localdate() - dt.timedelta(days=1)
    since = since or until - dt.timedelta(days=social_settings().metrics_days_back - 1)
    if since > until:
        raise ValidationError(_("The period starts after it ends."))
    try:
        result = provider_for(account).fetch_metrics(since, until)
    except Exception as error:  # every failure ends as one of the four outcomes, recorded
        error = as_outcome(error, doing="metrics fetch", account_id=account.pk)
        account_record_failure(account=account, error=error)
        if isinstance(error, RetryLater):
            raise
        return FetchOutcome(error=str(error), retry_at=getattr(error, "until", None))
    now = timezone.now()
    # Several API metrics may add into one desk metric (Google's impressions): sum per key first.
    totals: dict[tuple[str, dt.date], float] = {}
    for value in result.values:
        key = (value.metric, value.day)
        totals[key] = totals.get(key, 0.0) + value.value
    rows = [
        MetricSnapshot(account=account, metric=metric, day=day, value=value, fetched_at=now)
        for (metric, day), value in totals.items()
    ]
    with transaction.atomic():
        MetricSnapshot.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["account", "metric", "day"],
            update_fields=["value", "fetched_at"],
        )
        _record_success(account, "last_fetch_at")
        if result.refused:
            message = "; ".join(f"{name}: {why}" for name, why in sorted(result.refused.items()))
            SocialAccount.objects.filter(pk=account.pk).update(
                last_error_code=ErrorCode.METRICS_REFUSED, last_error=message[:500],
                last_error_at=now,
            )  # fmt: skip
            account.last_error_code = ErrorCode.METRICS_REFUSED
            account.last_error = message[:500]
    return FetchOutcome(stored=len(rows), refused=result.refused or None)


# --- Reviews -------------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def review_due_at(
    *, opened_at: dt.datetime, restaurant, config: SocialSettings | None = None
) -> dt.datetime:
    config = config or social_settings()
    tz = restaurant.time_zone or settings.TIME_ZONE
    try:
        return _due_at(opened_at, config, tz=tz)
    except ValueError as error:
        # Settings saved around the admin's checks (a shell, an import) must not stop the review
        # fetch: the default business hours serve until they are corrected.
        logger.warning("unusable business hours in the social desk settings (%s)", error)
        return _due_at(opened_at, SocialSettings(), tz=tz)


def _due_at(opened_at: dt.datetime, config: SocialSettings, *, tz: str) -> dt.datetime:
    return add_business_hours(
        opened_at,
        config.response_target_hours,
        day_start=config.business_day_start,
        day_end=config.business_day_end,
        weekdays=config.weekdays,
        tz=tz,
    )


def _manages_reviews(restaurant: Restaurant) -> bool:
    """Whether the restaurant's contract in force includes review management."""
    return (
        restaurants_with_service(service="review_management")
        .filter(restaurant_id=restaurant.pk)
        .exists()
    )


def _task_create(review: Review, reason: str, *, restaurant: Restaurant, due_at) -> ReviewTask:
    """The review's task, its due time copied on the review (open_due_at) for the queue."""
    task = ReviewTask.objects.create(
        review=review,
        assignee=restaurant.review_manager,
        reason=reason,
        opened_at=timezone.now(),
        due_at=due_at,
    )
    if review.open_due_at != due_at:
        Review.objects.filter(pk=review.pk).update(open_due_at=due_at)
        review.open_due_at = due_at
    return task


def _open_task(
    review: Review, reason: str, *, restaurant: Restaurant, managed: bool
) -> ReviewTask | None:
    """Open a task when the restaurant's contract includes review management (`managed`), unless
    one is open already (then it stays due as it was)."""
    if not managed:
        return None
    if ReviewTask.objects.filter(review=review, state=TaskState.OPEN).exists():
        return None
    due_at = review_due_at(opened_at=timezone.now(), restaurant=restaurant)
    return _task_create(review, reason, restaurant=restaurant, due_at=due_at)


REVIEWS_OVERLAP = dt.timedelta(hours=1)
# How far back a fetch reads to see replies made on the platform to reviews still waiting here.
REPLIES_LOOKBACK = dt.timedelta(days=30)


def _reviews_since(account: SocialAccount, provider) -> dt.datetime | None:
    """Where an incremental fetch starts (None: everything). A review changed while the last
    fetch ran is older than its end: read a little further back (what was already seen comes
    back unchanged). Google gives the review and its reply a time each and does not say that a
    reply moves the review's own: a reply the owner made on Google would be missed by a fetch
    that stops at the last one, so it reads back to the oldest review with an open task (within
    REPLIES_LOOKBACK; older ones are marked answered from their page)."""
    if not account.last_reviews_at:
        return None
    since = account.last_reviews_at - REVIEWS_OVERLAP
    if provider.replies_in_reviews:
        oldest = Review.objects.filter(account=account, open_due_at__isnull=False).aggregate(
            oldest=Min("updated_at")
        )["oldest"]
        if oldest is not None:
            since = min(since, max(oldest, timezone.now() - REPLIES_LOOKBACK))
    return since


@dataclass
class ReviewsOutcome:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    # Open tasks closed by a reply the owner made on the platform itself.
    answered: int = 0
    error: str = ""
    skipped: bool = False
    retry_at: dt.datetime | None = None


def reviews_fetch(*, account: SocialAccount, full: bool = False) -> ReviewsOutcome:
    """Fetch reviews written or changed since the last fetch (all with `full`). A new review, or
    one whose text or rating changed, opens a review task; one already answered on the platform
    is stored as answered."""
    if not _ready(account):
        return ReviewsOutcome(skipped=True)
    try:
        provider = provider_for(account)
        remote = provider.fetch_reviews(None if full else _reviews_since(account, provider))
    except Exception as error:  # every failure ends as one of the four outcomes, recorded
        error = as_outcome(error, doing="reviews fetch", account_id=account.pk)
        account_record_failure(account=account, error=error)
        if isinstance(error, RetryLater):
            raise
        return ReviewsOutcome(error=str(error), retry_at=getattr(error, "until", None))
    outcome = ReviewsOutcome()
    restaurant = account.restaurant
    managed = _manages_reviews(restaurant) if remote else False
    config = social_settings() if managed else None
    now = timezone.now()
    with transaction.atomic():
        existing = {
            review.external_id: review
            for review in Review.objects.select_for_update().filter(
                account=account, external_id__in=[item.external_id for item in remote]
            )
        }
        untouched: list[int] = []
        for item in remote:
            review = existing.get(item.external_id)
            if review is None:
                # A new review cannot have a task yet: its due time is known before it is saved.
                due_at = None
                if managed and not item.reply_text:
                    due_at = review_due_at(opened_at=now, restaurant=restaurant, config=config)
                review = _review_create_once(account, item, open_due_at=due_at)
                if review is None:
                    # Another fetch of the account (the button and the daily job at once) stored
                    # it after the look-up above: take theirs, locked, as a review seen before.
                    review = Review.objects.select_for_update().get(
                        account=account, external_id=item.external_id
                    )
                else:
                    outcome.new += 1
                    if due_at is not None:
                        _task_create(review, "new", restaurant=restaurant, due_at=due_at)
                    if review.rating is not None and review.rating <= 2:
                        _negative_review_record(review, account=account, restaurant=restaurant)
                    continue
            change = _review_update(review, item, now=now)
            if change == "content":
                outcome.changed += 1
                if not item.reply_text or item.updated_at > (review.replied_at or item.updated_at):
                    _open_task(review, "changed", restaurant=restaurant, managed=managed)
            else:
                outcome.unchanged += 1
            if _close_on_platform_reply(review, item):
                outcome.answered += 1
            elif not change:
                untouched.append(review.pk)
        if untouched:
            # Seen again as it was: one UPDATE says so, instead of saving each review.
            Review.objects.filter(pk__in=untouched).update(fetched_at=now)
        _record_success(account, "last_reviews_at")
    return outcome


def _negative_review_record(review: Review, *, account: SocialAccount, restaurant) -> None:
    crm_services.activity_record(
        restaurant=restaurant,
        by=None,
        subject=_("Negative review on %(network)s (%(rating)s/5) by %(author)s")
        % {
            "network": account.get_network_display(),
            "rating": review.rating,
            "author": review.author or "-",
        },
        origin="review",
    )


def _review_create_once(
    account: SocialAccount, item: RemoteReview, *, open_due_at: dt.datetime | None
) -> Review | None:
    """The new review, or None when a concurrent fetch of the account stored it first: the
    database's unique (account, external id) refuses the second row, and the savepoint keeps
    the rest of this fetch (without it the whole fetch would roll back)."""
    try:
        with transaction.atomic():
            return _review_create(account, item, open_due_at=open_due_at)
    except IntegrityError:
        if Review.objects.filter(account=account, external_id=item.external_id).exists():
            return None
        raise


def _review_create(
    account: SocialAccount, item: RemoteReview, *, open_due_at: dt.datetime | None = None
) -> Review:
    text = item.text if item.storable else ""
    review = Review(
        account=account,
        restaurant_id=account.restaurant_id,
        network=account.network,
        external_id=item.external_id,
        author=item.author[:200] if item.storable else "",
        rating=item.rating,
        text=text,
        text_digest=_digest(item.text),
        language=item.language,
        sentiment=sentiment_of(rating=item.rating, text=item.text),
        url=item.url,
        written_at=item.written_at,
        updated_at=item.updated_at,
        reply_text=item.reply_text if item.storable else "",
        replied_at=item.replied_at,
        open_due_at=open_due_at,
    )
    # The fields' own rules; uniqueness was just looked up under a lock, and the database's
    # constraints stand behind both.
    review.full_clean(validate_unique=False, validate_constraints=False)
    review.save()
    return review


def _review_update(review: Review, item: RemoteReview, *, now: dt.datetime) -> str:
    """Apply the platform's version: "content" when the text or the rating changed (saved),
    "other" when only its dates or reply did (saved), "" when nothing did (not saved)."""
    digest = _digest(item.text)
    content = review.text_digest != digest or review.rating != item.rating
    values = {
        "text": item.text if item.storable else "",
        "text_digest": digest,
        "rating": item.rating,
        "updated_at": item.updated_at,
        "sentiment": sentiment_of(rating=item.rating, text=item.text) if content else None,
    }
    if not content:
        values.pop("sentiment")
    if _newer_platform_reply(review, item):
        # The owner answered, or changed the answer, on the platform itself: that is the reply
        # now, made by nobody of the desk.
        values |= _platform_reply(item)
    elif item.reply_text and item.storable and not review.reply_text:
        # Marked answered here without its words: the platform's reply gives them.
        values["reply_text"] = item.reply_text
    changed = {name: value for name, value in values.items() if getattr(review, name) != value}
    if not changed:
        return ""
    for name, value in changed.items():
        setattr(review, name, value)
    review.fetched_at = now
    review.save(update_fields=[*changed, "fetched_at"])
    return "content" if content else "other"


def _platform_reply(item: RemoteReview) -> dict:
    return {
        "reply_text": item.reply_text if item.storable else "",
        "replied_at": item.replied_at,
        "replied_by_id": None,
        "reply_sent": False,
    }


def _newer_platform_reply(review: Review, item: RemoteReview) -> bool:
    """Whether the platform shows a reply the review does not have: a first one, or another text
    written after the one recorded (the same text is the desk's own reply coming back)."""
    if not item.reply_text or item.replied_at is None:
        return False
    if review.replied_at is None:
        return True
    text = item.reply_text if item.storable else ""
    return item.replied_at > review.replied_at and text != review.reply_text


def _close_on_platform_reply(review: Review, item: RemoteReview) -> bool:
    """Close the review's open task when the platform shows a reply to the review as it is now:
    one written after the review's last change (both are the platform's times) or after the task
    opened. The task is answered at the reply's time (never before it opened), by nobody; the
    review records that reply."""
    if review.open_due_at is None or not item.reply_text or item.replied_at is None:
        return False
    task = ReviewTask.objects.filter(review=review, state=TaskState.OPEN).first()
    if task is None:
        return False
    if item.replied_at < item.updated_at and item.replied_at <= task.opened_at:
        # The answer to the review's earlier version: its change still waits for one.
        return False
    ReviewTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
        state=TaskState.ANSWERED, answered_at=max(item.replied_at, task.opened_at), answered_by=None
    )
    fields = _platform_reply(item) | {"open_due_at": None}
    for name, value in fields.items():
        setattr(review, name, value)
    # Saved, not updated: the dashboards' caches follow the reviews' saves.
    review.save(update_fields=list(fields))
    return True


def _close_tasks(review: Review, by: User, at: dt.datetime) -> None:
    ReviewTask.objects.filter(review=review, state=TaskState.OPEN).update(
        state=TaskState.ANSWERED, answered_at=at, answered_by=by
    )
    Review.objects.filter(pk=review.pk).update(open_due_at=None)
    review.open_due_at = None


def _check_may(user: User, perm: str, restaurant_id: int) -> None:
    """The permission, and the restaurant inside the user's scope (checked again here because
    services are also called by tasks, commands and admin actions)."""
    if not user.has_perm(perm):
        raise PermissionDenied
    if not Restaurant.objects.visible_to(user).filter(pk=restaurant_id).exists():
        raise PermissionDenied


def review_reply(*, review: Review, by: User, text: str) -> Review:
    """Send a reply through the platform (where it has a reply endpoint), record it and close the
    review's task. A failure leaves the review unanswered, with the typed text kept by the caller,
    and the error raised for the page to show."""
    _check_may(by, "social.reply_review", review.restaurant_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the reply first.")})
    if review.network == Network.GOOGLE and len(text.encode()) > 4096:
        raise ValidationError({"text": _("Google accepts replies of up to 4096 bytes.")})
    account = review.account
    provider = provider_for(account)
    if not provider.can_reply:
        raise ValidationError(
            _("This network has no reply endpoint: answer on the platform, then mark it answered.")
        )
    try:
        # Sent from the page: it waits briefly for its turn in the call budgets, if at all.
        with quotas.waiting_at_most(quotas.SHORT_WAIT):
            provider.reply(review.external_id, text)
    except Exception as error:  # every failure ends as one of the four outcomes, recorded
        outcome = as_outcome(error, doing="reply", account_id=account.pk)
        account_record_failure(account=account, error=outcome)
        if outcome is error:
            raise
        raise outcome from error
    now = timezone.now()
    with transaction.atomic():
        review.reply_text = text
        review.replied_at = now
        review.replied_by = by
        review.reply_sent = True
        review.save(update_fields=["reply_text", "replied_at", "replied_by", "reply_sent"])
        _close_tasks(review, by, now)
    return review


def review_mark_answered(*, review: Review, by: User, text: str = "") -> Review:
    """The reply was written on the platform itself (TripAdvisor, Facebook): record it."""
    _check_may(by, "social.reply_review", review.restaurant_id)
    now = timezone.now()
    with transaction.atomic():
        if review.network != Network.TRIPADVISOR:
            review.reply_text = (text or "").strip()
        review.replied_at = now
        review.replied_by = by
        review.reply_sent = False
        review.save(update_fields=["reply_text", "replied_at", "replied_by", "reply_sent"])
        _close_tasks(review, by, now)
    return review


# --- Posts and publications ----------------------------------------------------------------------

MAX_ATTEMPTS = 5
# A publication claimed longer ago than this was interrupted (worker killed): it goes back to the
# queue, and the provider state it left makes the retry find what was already done.
STUCK_AFTER = dt.timedelta(minutes=15)
OPEN_STATES = (PublicationState.DRAFT, PublicationState.SCHEDULED, PublicationState.FAILED)


def local_moment(*, day: dt.date, time: dt.time, tz_name: str) -> dt.datetime:
    """The instant a wall-clock time means in a time zone. A time skipped by the spring change
    does not exist and is refused; a time repeated in autumn is its first occurrence."""
    zone = ZoneInfo(tz_name)
    naive = dt.datetime.combine(day, time)
    moment = naive.replace(tzinfo=zone, fold=0)
    if moment.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            {
                "time": _("%(time)s does not exist on %(day)s in %(zone)s (clocks go forward).")
                % {"time": time.strftime("%H:%M"), "day": day.isoformat(), "zone": tz_name}
            }
        )
    return moment


def image_info(image_file) -> ImageInfo:
    """Read an uploaded image's size and format; anything Pillow cannot open is refused."""
    try:
        image_file.seek(0)
        with PILImage.open(image_file) as picture:
            width, height = picture.size
            kind = picture.format or ""
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            {"images": _("%(name)s is not an image we can read.") % {"name": image_file.name}}
        ) from error
    finally:
        image_file.seek(0)
    return ImageInfo(width=width, height=height, size=image_file.size, format=kind)


def post_save(
    *,
    by: User,
    restaurant,
    accounts: list[SocialAccount],
    text: str,
    link: str = "",
    new_images: list | None = None,
    remove_image_ids: list[int] | None = None,
    post: Post | None = None,
) -> Post:
    """Create or edit a post and its targets, as a draft or keeping its schedule. Targets already
    published are kept as they are; a post published everywhere can no longer be edited."""
    _check_may(by, "social.manage_post", restaurant.pk)
    if any(account.restaurant_id != restaurant.pk for account in accounts):
        raise ValidationError({"accounts": _("Choose accounts of this restaurant.")})
    if not accounts:
        raise ValidationError({"accounts": _("Choose at least one account.")})
    for account in accounts:
        if not can_publish_to(account.network):
            raise ValidationError(
                {
                    "accounts": _("Posts cannot be published on %(network)s.")
                    % {"network": account.get_network_display()}
                }
            )
    infos = [image_info(image) for image in new_images or []]
    with transaction.atomic():
        if post is None:
            post = Post(restaurant=restaurant, created_by=by, time_zone=restaurant.time_zone)
        elif post.publications.filter(state=PublicationState.PUBLISHING).exists():
            raise ValidationError(_("The post is being published; try again in a minute."))
        post.text = text
        post.link = link
        post.full_clean()
        post.save()
        if remove_image_ids:
            post.images.filter(pk__in=remove_image_ids).delete()
        order = (post.images.aggregate(top=Max("order"))["top"] or 0) + 1
        for offset, (upload, info) in enumerate(zip(new_images or [], infos, strict=True)):
            PostImage.objects.create(
                post=post, image=upload, width=info.width, height=info.height, size=info.size,
                format=info.format, order=order + offset,
            )  # fmt: skip
        wanted = {account.pk for account in accounts}
        post.publications.filter(state__in=(*OPEN_STATES, PublicationState.CANCELLED)).exclude(
            account_id__in=wanted
        ).delete()
        present = set(post.publications.values_list("account_id", flat=True))
        draft = post.status == PostStatus.DRAFT
        for account_id in wanted - present:
            Publication.objects.create(
                post=post,
                account_id=account_id,
                state=PublicationState.DRAFT if draft else PublicationState.SCHEDULED,
                due_at=None if draft else post.scheduled_at,
            )
    return post


def post_check(*, post: Post) -> list[str]:
    """Every reason the platforms would refuse the post, per target account."""
    images = [image.info for image in post.images.all()]
    errors: list[str] = []
    for publication in post.publications.select_related("account"):
        if publication.state == PublicationState.PUBLISHED:
            continue
        problems, _warnings = post_problems(
            network=publication.account.network, text=post.text, link=post.link, images=images
        )
        errors += [f"{publication.account.name}: {problem}" for problem in problems]
    return errors


def post_schedule(*, post: Post, by: User, at: dt.datetime, now: dt.datetime | None = None) -> Post:
    """Schedule the post's unpublished targets for `at` (an aware instant)."""
    _check_may(by, "social.manage_post", post.restaurant_id)
    now = now or timezone.now()
    if at < now - dt.timedelta(minutes=1):
        raise ValidationError({"time": _("Choose a moment in the future.")})
    errors = post_check(post=post)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        post.status = PostStatus.SCHEDULED
        post.scheduled_at = at
        post.time_zone = post.restaurant.time_zone
        post.save(update_fields=["status", "scheduled_at", "time_zone", "updated_at"])
        post.publications.filter(state__in=(*OPEN_STATES, PublicationState.CANCELLED)).update(
            state=PublicationState.SCHEDULED,
            due_at=at,
            next_attempt_at=None,
            last_error="",
            last_error_code="",
        )
    return post


def post_publish_now(*, post: Post, by: User) -> Post:
    """Schedule for now and publish right after commit (inline in the embedded mode)."""
    from social.tasks import publish_publication

    now = timezone.now()
    post_schedule(post=post, by=by, at=now, now=now)
    ids = list(
        post.publications.filter(state=PublicationState.SCHEDULED).values_list("pk", flat=True)
    )
    for publication_id in ids:
        transaction.on_commit(lambda pk=publication_id: publish_publication.delay(pk))
    return post


def post_unschedule(*, post: Post, by: User) -> Post:
    """Back to draft: the targets not yet published wait again."""
    _check_may(by, "social.manage_post", post.restaurant_id)
    with transaction.atomic():
        if post.publications.filter(state=PublicationState.PUBLISHING).exists():
            raise ValidationError(_("The post is being published; try again in a minute."))
        post.publications.filter(state__in=OPEN_STATES).update(
            state=PublicationState.DRAFT, due_at=None, next_attempt_at=None
        )
        post.status = PostStatus.DRAFT
        post.save(update_fields=["status", "updated_at"])
    return post


def post_delete(*, post: Post, by: User) -> None:
    _check_may(by, "social.manage_post", post.restaurant_id)
    if post.publications.filter(
        state__in=(PublicationState.PUBLISHED, PublicationState.PUBLISHING)
    ).exists():
        raise ValidationError(_("A post already published cannot be deleted here."))
    post.delete()


def publication_retry(*, publication: Publication, by: User) -> Publication:
    """A failed publication goes back to the queue, due now, with what its earlier attempts left
    (so a post that did go out is found, not doubled), and is published right after commit."""
    from social.tasks import publish_publication

    _check_may(by, "social.manage_post", publication.post.restaurant_id)
    updated = Publication.objects.filter(pk=publication.pk, state=PublicationState.FAILED).update(
        state=PublicationState.SCHEDULED,
        due_at=timezone.now(),
        next_attempt_at=None,
        attempts=0,
    )
    if not updated:
        raise ValidationError(_("Only a failed publication can be retried."))
    publication.refresh_from_db()
    post = publication.post
    if post.status != PostStatus.SCHEDULED:
        post.status = PostStatus.SCHEDULED
        post.scheduled_at = post.scheduled_at or publication.due_at
        post.save(update_fields=["status", "scheduled_at", "updated_at"])
    transaction.on_commit(lambda: publish_publication.delay(publication.pk))
    return publication


def publications_release_stuck(*, now: dt.datetime | None = None) -> int:
    """Publications claimed more than STUCK_AFTER ago (the worker was killed) go back to the
    queue, with the provider state they left; one interrupted at its last attempt fails instead
    (with its Retry button), or it would be claimed and released for ever."""
    now = now or timezone.now()
    stuck = Publication.objects.filter(
        state=PublicationState.PUBLISHING, claimed_at__lt=now - STUCK_AFTER
    )
    last = stuck.filter(attempts__gte=MAX_ATTEMPTS)
    post_ids = set(last.values_list("post_id", flat=True))
    failed = last.update(
        state=PublicationState.FAILED,
        next_attempt_at=None,
        last_error_code=ErrorCode.INTERRUPTED_LAST,
        last_error="",
    )
    released = stuck.update(
        state=PublicationState.SCHEDULED, last_error_code=ErrorCode.INTERRUPTED, last_error=""
    )
    for post in Post.objects.filter(pk__in=post_ids):
        _post_settle(post)
    return failed + released


def publications_due(*, now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    now = now or timezone.now()
    return list(
        Publication.objects.filter(state=PublicationState.SCHEDULED, due_at__lte=now)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _image_url(image: PostImage) -> str:
    return f"{settings.SITE_URL}{public_image_path(image)}"


def public_image_path(image: PostImage) -> str:
    """A URL the platforms can fetch without a session (Instagram downloads media itself),
    signed so nobody can list the images."""
    return reverse("social:post_image", args=[image.pk, signing.dumps(image.pk, salt="post-image")])


def publication_publish(*, publication_id: int, provider=None) -> str:
    """Publish one due publication once. The conditional UPDATE is the lock: of two workers, only
    the one that moves the row from scheduled to publishing goes on."""
    now = timezone.now()
    claimed = (
        Publication.objects.filter(
            pk=publication_id, state=PublicationState.SCHEDULED, due_at__lte=now
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(state=PublicationState.PUBLISHING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    publication = Publication.objects.select_related("post__restaurant", "account").get(
        pk=publication_id
    )
    post = publication.post
    content = PostContent(
        text=post.text,
        link=post.link,
        image_urls=tuple(_image_url(image) for image in post.images.all()),
    )

    def checkpoint(state: dict) -> None:
        Publication.objects.filter(pk=publication_id).update(provider_state=state)

    try:
        provider = provider or provider_for(publication.account)
        result = provider.publish(
            content, state=dict(publication.provider_state), checkpoint=checkpoint
        )
    except Exception as error:  # every failure ends as one of the four outcomes, recorded
        outcome = as_outcome(error, doing="publishing", account_id=publication.account_id)
        return _publication_failed(publication, outcome)
    Publication.objects.filter(pk=publication_id).update(
        state=PublicationState.PUBLISHED,
        external_id=result.external_id[:200],
        url=result.url[:500],
        published_at=timezone.now(),
        last_error="",
        last_error_code="",
        next_attempt_at=None,
    )
    _post_settle(post)
    return PublicationState.PUBLISHED


def _publication_failed(publication: Publication, error: ConnectorError) -> str:
    """Record a failed attempt on the publication: retried with backoff when it can be, failed
    (with its Retry button) otherwise. Only what concerns the account (its token, permissions,
    rate limits, the platform being down) is recorded on it too: a post the platform refused
    (ContentRefused: a duplicate, a bad image) or an unexpected failure while publishing is this
    post's problem, and must not show a working account in error."""
    if not isinstance(error, ContentRefused | UnexpectedFailure):
        account_record_failure(account=publication.account, error=error)
    now = timezone.now()
    fields: dict = {"last_error_code": error_code_of(error), "last_error": str(error)[:500]}
    retryable = isinstance(error, RetryLater | RateLimited)
    if retryable and publication.attempts < MAX_ATTEMPTS:
        wait = dt.timedelta(minutes=2**publication.attempts)
        until = error.until if isinstance(error, RateLimited) else now + wait
        fields |= {"state": PublicationState.SCHEDULED, "next_attempt_at": max(until, now + wait)}
    else:
        fields |= {"state": PublicationState.FAILED, "next_attempt_at": None}
    Publication.objects.filter(pk=publication.pk).update(**fields)
    _post_settle(publication.post)
    return fields["state"]


def _post_settle(post: Post) -> None:
    """A post is done once none of its targets waits any more."""
    waiting = post.publications.filter(
        state__in=(PublicationState.SCHEDULED, PublicationState.PUBLISHING)
    ).exists()
    if not waiting and post.status == PostStatus.SCHEDULED:
        Post.objects.filter(pk=post.pk).update(status=PostStatus.DONE)


def social_profile_update(*, restaurant, by: User, average_ticket) -> SocialProfile:
    _check_may(by, "social.manage_post", restaurant.pk)
    profile, _created = SocialProfile.objects.get_or_create(restaurant=restaurant)
    profile.average_ticket = average_ticket
    profile.full_clean()
    profile.save()
    return profile


# --- Accounts ------------------------------------------------------------------------------------


def account_add(
    *, restaurant, by: User, network: str, external_id: str, name: str, url: str = ""
) -> SocialAccount:
    """An account without an OAuth flow (TripAdvisor, served by the company's API key)."""
    _check_may(by, "social.manage_socialaccount", restaurant.pk)
    if SocialAccount.objects.filter(network=network, external_id=external_id).exists():
        raise ValidationError({"external_id": _("This account is already linked to a restaurant.")})
    account = SocialAccount(
        restaurant=restaurant, network=network, external_id=external_id, name=name, url=url
    )
    account.full_clean()
    account.save()
    crm_services.activity_record(
        restaurant=restaurant,
        by=by,
        subject=_("%(network)s account added: %(name)s")
        % {"network": account.get_network_display(), "name": account.name},
    )
    return account


def asset_to_session(asset) -> dict:
    """An OAuth asset kept in the session between the callback and the choice. The credentials
    stay encrypted there too: the session store is not the place for clear tokens."""
    return {
        "network": asset.network,
        "external_id": asset.external_id,
        "name": asset.name,
        "url": asset.url,
        "credentials": encrypt(asset.credentials),
        "token_expires_at": asset.token_expires_at.isoformat() if asset.token_expires_at else None,
    }


def accounts_connect(*, restaurant, by: User, assets: list[dict]) -> int:
    """Link the chosen pages / business accounts / locations to the restaurant, or refresh the
    credentials of accounts already linked to it. One linked to another restaurant is refused."""
    _check_may(by, "social.manage_socialaccount", restaurant.pk)
    count = 0
    with transaction.atomic():
        for asset in assets:
            credentials = decrypt(asset["credentials"])
            expires = asset.get("token_expires_at")
            expires_at = dt.datetime.fromisoformat(expires) if expires else None
            account = SocialAccount.objects.filter(
                network=asset["network"], external_id=asset["external_id"]
            ).first()
            if account is not None and account.restaurant_id != restaurant.pk:
                raise ValidationError(
                    _("%(name)s is already linked to another restaurant.") % {"name": asset["name"]}
                )
            if account is None:
                account = SocialAccount(
                    restaurant=restaurant,
                    network=asset["network"],
                    external_id=asset["external_id"],
                    name=asset["name"][:200],
                    url=asset["url"][:500],
                )
            account.name = asset["name"][:200] or account.name
            account.token_expires_at = expires_at
            account_reconnected(account=account, credentials=credentials, by=by)
            count += 1
    return count


def account_disconnect(*, account: SocialAccount, by: User) -> SocialAccount:
    """Forget the credentials: the account stays with its history and waits for a reconnection."""
    _check_may(by, "social.manage_socialaccount", account.restaurant_id)
    account.credentials = ""
    account.state = AccountState.NEEDS_RECONNECT
    account.last_error_code = ErrorCode.DISCONNECTED
    # Who did it, as a name: the label says what it means, in the reader's language.
    account.last_error = by.get_username()
    account.last_error_at = timezone.now()
    account.reconnect_notified_at = timezone.now()
    account.save(
        update_fields=[
            "credentials", "state", "last_error_code", "last_error", "last_error_at",
            "reconnect_notified_at",
        ]
    )  # fmt: skip
    return account
