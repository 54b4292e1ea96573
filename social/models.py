"""Social desk nouns: accounts on the networks, daily metric snapshots, reviews and the tasks they
open, reply templates and the desk's settings."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comadvisor.fields import EncryptedTextField
from comadvisor.models import SettingsModel, SingletonModel
from crm.models import Restaurant
from sales.enums import Network
from social.business_hours import WEEKDAYS
from social.enums import (
    AccountState,
    ErrorCode,
    PostStatus,
    PublicationState,
    Sentiment,
    TaskState,
)
from social.posting import ImageInfo

# How long before a token's end its account is flagged for reconnection.
TOKEN_WARNING = dt.timedelta(days=14)


class SocialAccountQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SocialAccountQuerySet":
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))


class SocialAccount(models.Model):
    """A restaurant's page, business account or location on one network, with the health of its
    connector. Credentials (OAuth tokens) are encrypted at rest; an account without credentials
    marked `demo` is served by the demo provider, and only then."""

    restaurant = models.ForeignKey(
        Restaurant,
        on_delete=models.CASCADE,
        related_name="social_accounts",
        verbose_name=_("restaurant"),
    )
    network = models.CharField(_("network"), max_length=20, choices=Network.choices)
    external_id = models.CharField(_("external id"), max_length=200)
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("link"), max_length=500, blank=True)
    demo = models.BooleanField(
        _("demo data"),
        default=False,
        help_text=_("Generated data for trying the desk; never used once credentials are set."),
    )
    credentials = EncryptedTextField(_("credentials"), blank=True)
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=AccountState.choices, default=AccountState.OK
    )
    rate_limited_until = models.DateTimeField(_("rate limited until"), null=True, blank=True)
    # What last went wrong: a code shown translated, and the platform's own words (detail).
    last_error_code = models.CharField(
        _("last error"), max_length=20, choices=ErrorCode.choices, blank=True
    )
    last_error = models.CharField(_("last error detail"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_fetch_at = models.DateTimeField(_("last metrics fetch"), null=True, blank=True)
    last_reviews_at = models.DateTimeField(_("last reviews fetch"), null=True, blank=True)
    reconnect_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = SocialAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        ordering = ["restaurant", "network", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "external_id"], name="social_account_unique_external"
            ),
            models.CheckConstraint(
                condition=Q(demo=False) | Q(credentials=""), name="social_account_demo_no_creds"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "network"], name="social_account_state"),
        ]
        permissions = [
            ("manage_socialaccount", _("Can connect and manage social accounts")),
            ("view_connector_health", _("Can see the connector health page")),
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} - {self.name}"

    @property
    def is_rate_limited(self) -> bool:
        return bool(self.rate_limited_until and self.rate_limited_until > timezone.now())

    @property
    def reviews_note(self) -> str:
        """What the account's network allows for reviews, when less than fetching and replying."""
        from social.providers import reviews_note

        return reviews_note(self.network)

    @property
    def token_expires_soon(self) -> bool:
        """The platform said when its token ends (Meta's long-lived tokens: about 60 days), and
        that is within TOKEN_WARNING: someone should reconnect before the fetches fail."""
        return bool(
            self.token_expires_at and self.token_expires_at <= timezone.now() + TOKEN_WARNING
        )


class MetricSnapshot(models.Model):
    """One value of one metric for one account and day, kept for good. `metric` is the desk's own
    name (social.metrics), stable across the platforms' API versions."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="snapshots")
    metric = models.CharField(_("metric"), max_length=40)
    day = models.DateField(_("day"))
    value = models.FloatField(_("value"))
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("metric snapshot")
        verbose_name_plural = _("metric snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "metric", "day"], name="social_snapshot_one_per_day"
            )
        ]
        indexes = [models.Index(fields=["account", "day"], name="social_snapshot_account_day")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.metric} {self.day}: {self.value}"


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ReviewQuerySet":
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))

    # A review is answered when it has a reply and no task waits on it: a review changed on the
    # platform after its answer keeps that reply (the record of it) while its new task is open.
    def answered(self) -> "ReviewQuerySet":
        return self.filter(replied_at__isnull=False, open_due_at__isnull=True)

    def unanswered(self) -> "ReviewQuerySet":
        return self.filter(Q(replied_at__isnull=True) | Q(open_due_at__isnull=False))


class Review(models.Model):
    """A review fetched from a network, deduplicated by the platform's id. TripAdvisor's terms
    forbid storing review content: for its reviews only the id, rating, dates, link and a digest of
    the text (to notice a change) are kept."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="reviews")
    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("restaurant")
    )
    network = models.CharField(_("network"), max_length=20, choices=Network.choices)
    external_id = models.CharField(_("external id"), max_length=300)
    author = models.CharField(_("author"), max_length=200, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(_("text"), blank=True)
    text_digest = models.CharField(max_length=64, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=10, blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL
    )
    url = models.URLField(_("link"), max_length=500, blank=True)
    written_at = models.DateTimeField(_("written"))
    updated_at = models.DateTimeField(_("updated"))
    reply_text = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replied by"),
    )
    reply_sent = models.BooleanField(
        _("reply sent through the platform"), default=False, editable=False
    )
    # The due time of the review's open task (None: no task open), kept by the services that
    # open and close tasks, so the queue sorts and filters on an index of this table.
    open_due_at = models.DateTimeField(_("answer due"), null=True, blank=True, editable=False)
    fetched_at = models.DateTimeField(default=timezone.now)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-written_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"], name="social_review_unique_external"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="social_review_rating_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["restaurant", "-written_at"], name="social_review_restaurant"),
            models.Index(fields=["network", "-written_at"], name="social_review_network"),
            # The queue's order (selectors.review_queue), and its overdue filter.
            models.Index(
                fields=["open_due_at", "-replied_at", "-written_at", "-id"],
                name="social_review_queue",
            ),
            # The queue's filters, inside a user's restaurants.
            models.Index(fields=["restaurant", "replied_at"], name="social_review_answered"),
            models.Index(fields=["restaurant", "rating"], name="social_review_rating"),
            models.Index(fields=["restaurant", "sentiment"], name="social_review_sentiment"),
        ]
        permissions = [
            ("reply_review", _("Can answer reviews")),
            ("view_all_reviews", _("Can see every review queue")),
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} {self.author} ({self.rating or '-'})"

    @property
    def is_answered(self) -> bool:
        """As ReviewQuerySet.answered(): a reply, and no open task."""
        return self.replied_at is not None and self.open_due_at is None


class ReviewTaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ReviewTaskQuerySet":
        return self.filter(review__restaurant__in=Restaurant.objects.visible_to(user))


class ReviewTask(models.Model):
    """A review to answer: opened when a review arrives or changes, due within the response
    target counted in business hours, closed by the reply. At most one open task per review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_tasks",
        verbose_name=_("assigned to"),
    )
    reason = models.CharField(_("reason"), max_length=10, default="new")
    state = models.CharField(
        _("state"), max_length=10, choices=TaskState.choices, default=TaskState.OPEN
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )

    objects = ReviewTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["review"], condition=Q(state="open"), name="social_task_one_open"
            )
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="social_task_state_due"),
            models.Index(fields=["assignee", "state", "due_at"], name="social_task_assignee"),
            models.Index(fields=["answered_at"], name="social_task_answered"),
        ]

    def __str__(self) -> str:
        return f"{self.review} - {self.get_state_display()}"

    @property
    def is_overdue(self) -> bool:
        moment = self.answered_at or timezone.now()
        return moment > self.due_at

    @property
    def within_target(self) -> bool | None:
        return None if self.answered_at is None else self.answered_at <= self.due_at


class ReplyTemplate(SettingsModel):
    """A saved reply (name and body in fr and en). Placeholders: {reviewer}, {restaurant},
    {rating}, {signature}."""

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("body"))
    for_ratings = models.CharField(
        _("suggested for ratings"),
        max_length=20,
        blank=True,
        help_text=_("Comma-separated ratings, for example 4,5. Empty: any."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def ratings(self) -> set[int]:
        return {int(part) for part in self.for_ratings.split(",") if part.strip().isdigit()}


class SocialSettings(SingletonModel, SettingsModel):
    response_target_hours = models.PositiveSmallIntegerField(
        _("answer reviews within (business hours)"), default=24
    )
    business_day_start = models.TimeField(_("business day starts"), default=dt.time(9))
    business_day_end = models.TimeField(_("business day ends"), default=dt.time(18))
    business_days = models.CharField(
        _("business days"),
        max_length=20,
        default="0,1,2,3,4",
        help_text=_("Comma-separated weekday numbers, Monday = 0."),
    )
    metrics_days_back = models.PositiveSmallIntegerField(
        _("re-fetch metrics of the last (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("The platforms settle their figures after a day or two."),
    )
    late_after_minutes = models.PositiveSmallIntegerField(
        _("a publication is late after (minutes)"), default=10
    )
    tripadvisor_monthly_calls = models.PositiveIntegerField(
        _("TripAdvisor calls per month"),
        default=5000,
        help_text=_(
            "The Content API's plan: 5,000 calls a month are free. The daily job shares what is "
            "left over the days left, oldest-fetched locations first."
        ),
    )
    # The ROI formula (see docs/roi.md): value brought by the actions the platforms attribute to
    # the restaurant's profiles, against the contract's monthly price.
    default_average_ticket = models.DecimalField(
        _("average ticket per guest when the restaurant has none (EUR)"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("25"),
        validators=[MinValueValidator(0)],
    )
    guests_per_booking = models.DecimalField(
        _("guests per booking"), max_digits=4, decimal_places=2, default=Decimal("2.5")
    )
    guests_per_food_order = models.DecimalField(
        _("guests per food order"), max_digits=4, decimal_places=2, default=Decimal("1.5")
    )
    call_conversion = models.DecimalField(
        _("share of calls that become a visit"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.3"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    direction_conversion = models.DecimalField(
        _("share of direction requests that become a visit"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.2"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    guests_per_visit = models.DecimalField(
        _("guests per visit from a call or a direction request"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("2"),
    )

    class Meta:
        verbose_name = _("social desk settings")
        verbose_name_plural = _("social desk settings")

    def __str__(self) -> str:
        return str(_("Social desk settings"))

    def clean(self) -> None:
        """The business hours must leave working time in every week, or no review could be
        given a due time. Checked here so the admin's form says what is wrong."""
        errors: dict[str, ValidationError] = {}
        parts = [part.strip() for part in (self.business_days or "").split(",") if part.strip()]
        wrong = [part for part in parts if _weekday(part) is None]
        days = [_weekday(part) for part in parts]
        repeated = sorted({day for day in days if day is not None and days.count(day) > 1})
        if wrong:
            errors["business_days"] = ValidationError(
                _(
                    "“%(value)s” is not a weekday number: use 0 (Monday) to 6 (Sunday), "
                    "separated by commas."
                ),
                code="invalid_weekday",
                params={"value": wrong[0]},
            )
        elif not parts:
            errors["business_days"] = ValidationError(
                _("Give at least one business day."), code="no_weekday"
            )
        elif repeated:
            errors["business_days"] = ValidationError(
                _("Give each business day once; repeated: %(days)s."),
                code="repeated_weekday",
                params={"days": ", ".join(str(day) for day in repeated)},
            )
        else:
            self.business_days = ",".join(str(day) for day in sorted(days))
        if (
            self.business_day_start is not None
            and self.business_day_end is not None
            and self.business_day_end <= self.business_day_start
        ):
            errors["business_day_end"] = ValidationError(
                _("The business day must end after it starts."), code="empty_day"
            )
        if self.response_target_hours is not None and self.response_target_hours < 1:
            errors["response_target_hours"] = ValidationError(
                _("The response target must be at least one hour."), code="no_target"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def weekdays(self) -> set[int]:
        """The business days as stored; anything that is not a weekday number is left out."""
        days = (_weekday(part.strip()) for part in (self.business_days or "").split(","))
        return {day for day in days if day is not None}


def _weekday(text: str) -> int | None:
    """The weekday number `text` holds (Monday = 0), None when it holds none."""
    if not (text.isascii() and text.isdigit()):
        return None
    day = int(text)
    return day if day in WEEKDAYS else None


def post_title(text: str) -> str:
    """A post as lists and the calendar name it: the start of its text."""
    return (text[:60] or str(_("(no text)"))).replace("\n", " ")


class PostQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PostQuerySet":
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))


class Post(models.Model):
    """A post composed once for a restaurant and sent to several of its accounts, each through its
    own Publication. `scheduled_at` is absolute (UTC in the database); the restaurant's time zone
    it was chosen in is kept so the form shows it back as it was typed."""

    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="posts", verbose_name=_("restaurant")
    )
    text = models.TextField(_("text"), blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default=settings.TIME_ZONE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-scheduled_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(scheduled_at__isnull=False),
                name="social_post_scheduled_has_time",
            )
        ]
        indexes = [
            models.Index(fields=["restaurant", "scheduled_at"], name="social_post_restaurant"),
            models.Index(fields=["status", "scheduled_at"], name="social_post_status"),
            # The post list's order (selectors.post_list): latest first, drafts on top.
            models.Index(fields=["-scheduled_at", "-id"], name="social_post_list"),
        ]
        permissions = [("manage_post", _("Can write, schedule and publish posts"))]

    def __str__(self) -> str:
        return post_title(self.text)


def post_image_path(instance, filename: str) -> str:
    return f"posts/{instance.post.restaurant_id}/{instance.post_id}/{filename}"


class PostImage(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to=post_image_path)
    # What Pillow read at upload, kept so checking a post against each network's rules reads no
    # file.
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    size = models.PositiveIntegerField(default=0, editable=False)
    format = models.CharField(max_length=10, blank=True, editable=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.image.name

    @property
    def info(self) -> ImageInfo:
        return ImageInfo(width=self.width, height=self.height, size=self.size, format=self.format)


class PublicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PublicationQuerySet":
        return self.filter(post__restaurant__in=Restaurant.objects.visible_to(user))


class Publication(models.Model):
    """One post on one account. The job claims a due row by moving it from scheduled to publishing
    in one conditional UPDATE, so two workers never both publish it; `provider_state` keeps what
    the provider did before a lost response (a sent feed post, an Instagram container) so a retry
    finds it instead of posting again."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="publications")
    account = models.ForeignKey(
        SocialAccount,
        on_delete=models.CASCADE,
        related_name="publications",
        verbose_name=_("account"),
    )
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=PublicationState.choices,
        default=PublicationState.SCHEDULED,
    )
    # Copied from the post when it is scheduled, so the every-minute job reads one indexed table.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error_code = models.CharField(
        _("last error"), max_length=20, choices=ErrorCode.choices, blank=True
    )
    last_error = models.CharField(_("last error detail"), max_length=500, blank=True)
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    provider_state = models.JSONField(default=dict, blank=True, editable=False)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["post", "account"], name="social_publication_once")
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="social_publication_due"),
            models.Index(fields=["account", "state"], name="social_publication_account"),
            # Retries waiting for their time (the every-minute job, late publications).
            models.Index(fields=["state", "next_attempt_at"], name="social_publication_retry"),
        ]

    def __str__(self) -> str:
        return f"{self.post} -> {self.account}"


class SocialProfile(models.Model):
    """The restaurant's figures the ROI formula needs, set by its community manager."""

    restaurant = models.OneToOneField(
        Restaurant, on_delete=models.CASCADE, related_name="social_profile"
    )
    average_ticket = models.DecimalField(
        _("average ticket per guest (EUR)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("social profile")
        verbose_name_plural = _("social profiles")

    def __str__(self) -> str:
        return str(self.restaurant)


class ApiUsage(models.Model):
    """Calls made to a platform with a monthly budget (TripAdvisor), per calendar month (UTC)."""

    api = models.CharField(max_length=40)
    month = models.DateField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("API usage")
        verbose_name_plural = _("API usage")
        constraints = [
            models.UniqueConstraint(fields=["api", "month"], name="social_api_usage_month")
        ]

    def __str__(self) -> str:
        return f"{self.api} {self.month:%Y-%m}: {self.calls}"
