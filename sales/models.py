"""Sales nouns: packs, contracts and their terms, invoices, visits and the visit form, the
pipeline, targets, and the agents' calendar connections."""

from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from comadvisor.fields import EncryptedTextField
from comadvisor.models import SettingsModel, SingletonModel
from crm.models import Restaurant
from sales.enums import (
    ContractStatus,
    EventSync,
    NodeKind,
    Stage,
    SyncState,
    VisitKind,
    VisitStatus,
)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def parse_month(value: str | None, default: date) -> date:
    """A YYYY-MM parameter as the first day of that month; `default` when it is not one."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return default


class Pack(SettingsModel):
    """A monthly social-media pack sold to restaurants (name and description in fr and en)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    monthly_price = models.DecimalField(
        _("monthly price"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    networks = models.JSONField(_("networks managed"), default=list, blank=True)
    posts_per_month = models.PositiveSmallIntegerField(_("posts per month"), default=0)
    monthly_report = models.BooleanField(_("monthly report"), default=True)
    review_management = models.BooleanField(_("review management"), default=False)
    active = models.BooleanField(_("offered"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("pack")
        verbose_name_plural = _("packs")
        ordering = ["order", "monthly_price"]

    def __str__(self) -> str:
        return self.name


class ContractQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ContractQuerySet":
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))


class Contract(models.Model):
    """A signed pack for a restaurant. Its terms (pack, price, posts, networks) live in dated
    ContractTerm rows so an upgrade keeps what was billed before it."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="contracts")
    start_date = models.DateField(_("start"))
    duration_months = models.PositiveSmallIntegerField(
        _("duration (months)"), validators=[MinValueValidator(1)]
    )
    end_date = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signed_contracts",
        verbose_name=_("signed by"),
    )
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    renewal_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal",
        verbose_name=_("renewal of"),
    )
    ended_at = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=255, blank=True)
    reminder_sent_at = models.DateTimeField(_("end reminder sent at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["status", "end_date"], name="sales_contract_status_end"),
            models.Index(fields=["restaurant", "-start_date"], name="sales_contract_restaurant"),
            # The contract list's "signed in a month" and "signed by" filters (the dashboard's
            # new contracts and each agent's).
            models.Index(fields=["signed_at"], name="sales_contract_signed_at"),
            models.Index(fields=["signed_by", "signed_at"], name="sales_contract_signed_by"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="sales_contract_end_after_start",
            ),
        ]
        permissions = [("manage_contract", _("Can sign and change contracts"))]

    def __str__(self) -> str:
        return f"{self.restaurant} - {self.start_date:%d/%m/%Y}"

    def terms_on(self, day: date) -> "ContractTerm | None":
        """The terms in force on `day` (from prefetched terms when available)."""
        terms = sorted(self.terms.all(), key=lambda term: term.starts_on)
        current = None
        for term in terms:
            if term.starts_on <= day:
                current = term
        return current or (terms[0] if terms else None)

    @property
    def current_terms(self) -> "ContractTerm | None":
        return self.terms_on(timezone.localdate())


class ContractTerm(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="terms")
    starts_on = models.DateField(_("from"))
    pack = models.ForeignKey(
        Pack, on_delete=models.PROTECT, related_name="+", verbose_name=_("pack")
    )
    monthly_price = models.DecimalField(
        _("monthly price"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    posts_per_month = models.PositiveSmallIntegerField(_("posts per month"))
    networks = models.JSONField(_("networks"), default=list)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract terms")
        verbose_name_plural = _("contract terms")
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "starts_on"], name="sales_term_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.pack} {self.monthly_price} € ({self.starts_on:%d/%m/%Y})"


class Suspension(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="suspensions")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        ordering = ["start_date"]

    def __str__(self) -> str:
        return f"{self.contract}: {self.start_date} - {self.end_date or '…'}"

    def covers_month(self, month: date) -> bool:
        """A suspended month is not billed: the suspension covers its first day."""
        return self.start_date <= month and (self.end_date is None or self.end_date >= month)


class InvoiceQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InvoiceQuerySet":
        if user.has_perm("sales.view_invoice"):
            return self.filter(restaurant__in=Restaurant.objects.visible_to(user))
        return self.none()


class Invoice(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices")
    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="invoices")
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    pack_name = models.CharField(_("pack"), max_length=100)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-month", "number"]
        constraints = [
            # The billing job may run twice; a contract month is billed once.
            models.UniqueConstraint(
                fields=["contract", "month"], name="sales_invoice_once_per_month"
            ),
        ]
        indexes = [
            models.Index(fields=["restaurant", "month"], name="sales_invoice_restaurant"),
            models.Index(fields=["month"], name="sales_invoice_month"),
        ]

    def __str__(self) -> str:
        return self.number


class SalesSettings(SingletonModel, SettingsModel):
    contract_reminder_days = models.PositiveSmallIntegerField(
        _("remind of contracts ending within (days)"), default=60
    )
    visit_backdate_days = models.PositiveSmallIntegerField(
        _("visits may be dated back by (days)"), default=7
    )
    opportunity_idle_days = models.PositiveSmallIntegerField(
        _("flag opportunities idle for (days)"), default=21
    )
    not_seen_days = models.PositiveSmallIntegerField(
        _("“not seen for long” after (days)"), default=90
    )
    bonus_rate = models.DecimalField(
        _("bonus rate on new monthly revenue above target (%)"),
        max_digits=5,
        decimal_places=2,
        default=10,
    )
    hidden_visit_origins = models.CharField(
        _("visit origins hidden by default"), max_length=300, blank=True, default="litigation"
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")

    def __str__(self) -> str:
        return str(_("Sales settings"))

    @property
    def hidden_origins(self) -> list[str]:
        return [code.strip() for code in self.hidden_visit_origins.split(",") if code.strip()]


class VisitFormNode(SettingsModel):
    """The question tree of "visit today": groups (one or several choices) holding options, and
    options that may open further groups. Labels in fr and en."""

    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=NodeKind.choices)
    label = models.CharField(_("label"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("visit form question")
        verbose_name_plural = _("visit form")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=NodeKind.OPTION, parent__isnull=False) | ~Q(kind=NodeKind.OPTION),
                name="sales_option_has_a_group",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user) -> "VisitQuerySet":
        """Managers see the visits of the restaurants they see; an agent sees their own visits
        (also on a restaurant since given to a colleague: it is their history)."""
        if user.has_perm("sales.view_all_visits"):
            return self.filter(restaurant__in=Restaurant.objects.visible_to(user))
        if not user.is_authenticated:
            return self.none()
        return self.filter(agent=user)


class Visit(models.Model):
    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="visits")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=VisitKind.choices, default=VisitKind.VISIT
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    report = models.TextField(_("report"), blank=True)
    # [{"node": id, "group": "label of the day", "option": "label of the day"}]
    answers = models.JSONField(_("answers"), default=list, blank=True)
    pack_offered = models.ForeignKey(
        Pack,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pack offered"),
    )
    revisit_date = models.DateField(_("revisit date"), null=True, blank=True)
    origin = models.CharField(_("origin"), max_length=40, blank=True)
    while_prospect = models.BooleanField(_("while a prospect"), default=False)
    google_event_id = models.CharField(max_length=200, blank=True, db_index=True)
    sync = models.CharField(
        _("calendar sync"), max_length=10, choices=EventSync.choices, blank=True, default=""
    )
    sync_error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["agent", "start"], name="sales_visit_agent_start"),
            models.Index(fields=["restaurant", "-start"], name="sales_visit_restaurant"),
            models.Index(fields=["restaurant", "status", "-start"], name="sales_visit_rest_status"),
            # Period statistics across agents (KPIs) read done visits by date.
            models.Index(fields=["status", "start"], name="sales_visit_status_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="sales_visit_ends_after_start"
            ),
        ]
        permissions = [("view_all_visits", _("Sees every agent's visits"))]

    def __str__(self) -> str:
        return f"{self.restaurant} {self.start:%d/%m/%Y %H:%M}"


class LostReason(SettingsModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("reason for a lost deal")
        verbose_name_plural = _("reasons for lost deals")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, user) -> "OpportunityQuerySet":
        if user.has_perm("sales.view_all_opportunities"):
            return self.filter(restaurant__in=Restaurant.objects.visible_to(user))
        return self.filter(owner=user, restaurant__in=Restaurant.objects.visible_to(user))


class Opportunity(models.Model):
    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.NEW)
    pack = models.ForeignKey(
        Pack,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pack"),
    )
    monthly_amount = models.DecimalField(
        _("monthly amount"), max_digits=8, decimal_places=2, default=0
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("lost because")
    )
    stage_changed_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["stage_changed_at", "id"]
        indexes = [models.Index(fields=["owner", "stage"], name="sales_opp_owner_stage")]
        permissions = [("view_all_opportunities", _("Sees every agent's pipeline"))]

    def __str__(self) -> str:
        return f"{self.restaurant} ({self.get_stage_display()})"


class StageChange(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=12, choices=Stage.choices)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Time spent in from_stage, for time-in-stage reports.
    seconds_in_stage = models.PositiveBigIntegerField()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at"]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class SalesTarget(models.Model):
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sales_targets"
    )
    month = models.DateField(_("month"))
    new_monthly_revenue = models.DecimalField(
        _("new monthly revenue target"), max_digits=10, decimal_places=2, default=0
    )
    new_clients = models.PositiveSmallIntegerField(_("new clients target"), default=0)

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-month", "agent"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "month"], name="sales_target_once_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.agent} {self.month:%m/%Y}"


class CalendarConnection(models.Model):
    """An agent's Google Calendar: encrypted OAuth credentials, the incremental sync token, health."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_connection"
    )
    credentials = EncryptedTextField(_("credentials"))
    calendar_id = models.CharField(_("calendar"), max_length=200, default="primary")
    sync_token = models.CharField(max_length=500, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=SyncState.choices, default=SyncState.OK
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    rate_limited_until = models.DateTimeField(_("rate limited until"), null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last synchronised"), null=True, blank=True)
    connected_at = models.DateTimeField(_("connected"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar connection")
        verbose_name_plural = _("calendar connections")

    def __str__(self) -> str:
        return f"{self.user} - {self.calendar_id}"


class CalendarFeed(models.Model):
    """A secret iCalendar URL per user; regenerating the token cuts off old subscriptions."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
