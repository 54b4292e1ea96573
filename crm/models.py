"""CRM nouns: zones, segments, restaurants, contacts, the timeline, change and conversion requests."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from comadvisor.models import SettingsModel, SingletonModel
from crm.enums import (
    ActivityKind,
    ContactRole,
    CustomFieldKind,
    PaymentMode,
    RequestStatus,
    RestaurantStatus,
)
from crm.text import normalize_search


def _split_codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.replace(";", ",").split(",") if part.strip()]


class Zone(SettingsModel):
    """A sales sector: the departments and postal-code prefixes it covers, and its agents."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    departments = models.CharField(
        _("departments"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated, e.g. 69, 01, 2A."),
    )
    postal_prefixes = models.CharField(
        _("postal-code prefixes"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated; a prefix wins over a department, the longest prefix first."),
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="zones", blank=True, verbose_name=_("sales agents")
    )

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def department_list(self) -> list[str]:
        return _split_codes(self.departments)

    @property
    def prefix_list(self) -> list[str]:
        return _split_codes(self.postal_prefixes)


class Segment(SettingsModel):
    """A line of the commercial grid (e.g. traditional, brasserie, fast food)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class ContactType(SettingsModel):
    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("contact type")
        verbose_name_plural = _("contact types")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class CustomField(SettingsModel):
    """An admin-defined field of restaurants; values live in Restaurant.custom_data[key]."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomFieldKind.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("One choice per line (kind: choice).")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class AssetType(SettingsModel):
    """A category of the restaurant's "parc" (screens, tablets...), counted per restaurant."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("asset type")
        verbose_name_plural = _("asset types")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


def default_mandatory_fields() -> list[str]:
    return [
        "segment",
        "name",
        "address",
        "postal_code",
        "city",
        "zone",
        "sales_agent",
        "country",
        "phone",
        "siret",
        "payment_mode",
        "payment_days",
    ]


class CrmSettings(SingletonModel, SettingsModel):
    accountant_email = models.EmailField(
        _("accountant's address"),
        blank=True,
        help_text=_("Receives change and client-creation requests."),
    )
    mandatory_fields = models.JSONField(
        _("fields required to become a client"), default=default_mandatory_fields
    )
    cheque_segments = models.ManyToManyField(
        Segment,
        blank=True,
        related_name="+",
        verbose_name=_("segments allowed to pay by cheque"),
        help_text=_("Empty: every segment may pay by cheque."),
    )
    cheque_payment_days = models.PositiveSmallIntegerField(
        _("payment term for cheques (days after invoice)"), default=20
    )
    hidden_activity_origins = models.CharField(
        _("timeline origins hidden by default"),
        max_length=300,
        blank=True,
        default="litigation",
        help_text=_("Comma-separated origin codes, e.g. litigation."),
    )

    class Meta:
        verbose_name = _("CRM settings")
        verbose_name_plural = _("CRM settings")

    def __str__(self) -> str:
        return str(_("CRM settings"))

    @property
    def hidden_origins(self) -> list[str]:
        return [code.strip() for code in self.hidden_activity_origins.split(",") if code.strip()]


class RestaurantQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RestaurantQuerySet":
        """The only door to restaurants: what `user`'s roles and assignments let them see."""
        from crm.scope import restaurant_scope

        return self.filter(restaurant_scope(user))

    def active(self) -> "RestaurantQuerySet":
        return self.filter(archived_at__isnull=True)


class Restaurant(models.Model):
    client_code = models.CharField(
        _("client code"), max_length=20, null=True, blank=True, unique=True
    )
    name = models.CharField(_("name"), max_length=200)
    search_name = models.CharField(max_length=200, editable=False, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    address_complement = models.CharField(_("address complement"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    search_city = models.CharField(max_length=100, editable=False, blank=True, db_index=True)
    department = models.CharField(_("department"), max_length=3, blank=True, db_index=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, db_index=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="restaurants",
        verbose_name=_("segment"),
    )
    zone = models.ForeignKey(
        Zone,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="restaurants",
        verbose_name=_("zone"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RestaurantStatus.choices,
        default=RestaurantStatus.PROSPECT,
    )
    sales_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agent_restaurants",
        verbose_name=_("sales agent"),
    )
    community_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_restaurants",
        verbose_name=_("community manager"),
    )
    review_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_restaurants",
        verbose_name=_("review manager"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_restaurants",
        verbose_name=_("created by"),
    )
    revisit_date = models.DateField(_("revisit date"), null=True, blank=True)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    payment_mode = models.CharField(
        _("payment mode"), max_length=20, choices=PaymentMode.choices, blank=True
    )
    payment_days = models.PositiveSmallIntegerField(_("payment term (days)"), null=True, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default=settings.TIME_ZONE)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the client's reports and e-mails."),
    )
    custom_data = models.JSONField(_("custom fields"), default=dict, blank=True)
    # The UUID the offline field kit gave a prospect it created, by which its later actions
    # refer to it before they know its id.
    field_client_id = models.UUIDField(
        _("offline id"), null=True, blank=True, unique=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["search_name", "search_city", "updated_at", "last_visit_at"]
    )

    objects = RestaurantQuerySet.as_manager()

    class Meta:
        verbose_name = _("restaurant")
        verbose_name_plural = _("restaurants")
        ordering = ["search_name", "id"]
        indexes = [
            models.Index(
                fields=["status", "archived_at", "search_name"], name="crm_rest_status_name"
            ),
            models.Index(fields=["sales_agent", "status"], name="crm_rest_agent_status"),
            models.Index(fields=["zone", "status"], name="crm_rest_zone_status"),
            models.Index(fields=["community_manager"], name="crm_rest_cm"),
            models.Index(fields=["review_manager"], name="crm_rest_rm"),
            models.Index(fields=["created_by", "status"], name="crm_rest_creator_status"),
            models.Index(fields=["segment"], name="crm_rest_segment"),
            models.Index(fields=["revisit_date"], name="crm_rest_revisit"),
            models.Index(fields=["sales_agent", "last_visit_at"], name="crm_rest_agent_last_visit"),
            models.Index(fields=["updated_at"], name="crm_rest_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=RestaurantStatus.PROSPECT) | Q(client_code__isnull=False),
                name="crm_restaurant_client_has_code",
                violation_error_message=_("A client needs a client code."),
            ),
        ]
        permissions = [
            ("manage_restaurant", _("Can manage every restaurant")),
            ("view_all_restaurants", _("Sees every restaurant")),
            ("view_client_restaurants", _("Sees every client (read-only)")),
            ("view_zone_restaurants", _("Sees the clients of their zones and their own prospects")),
            ("view_assigned_restaurants", _("Sees the restaurants assigned to them")),
            ("edit_own_prospects", _("Can edit their own prospects")),
            ("archive_restaurant", _("Can archive restaurants")),
            ("unarchive_restaurant", _("Can unarchive restaurants")),
            ("assign_restaurant", _("Can reassign restaurants")),
            ("import_restaurants", _("Can import restaurants")),
            ("export_restaurants", _("Can export restaurants")),
        ]

    def __str__(self) -> str:
        return f"{self.client_code} {self.name}" if self.client_code else self.name

    def save(self, *args, **kwargs) -> None:
        self.search_name = normalize_search(self.name)
        self.search_city = normalize_search(self.city)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            extra = {"name": "search_name", "city": "search_city"}
            kwargs["update_fields"] = set(update_fields) | {
                extra[f] for f in update_fields if f in extra
            }
        super().save(*args, **kwargs)

    @property
    def is_prospect(self) -> bool:
        return self.status == RestaurantStatus.PROSPECT

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class RestaurantUserObjectPermission(UserObjectPermissionBase):
    """Per-object grants on restaurants (a prospect shared with a colleague), with a real FK."""

    content_object = models.ForeignKey(Restaurant, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("restaurant grant")
        verbose_name_plural = _("restaurant grants")


class RestaurantAsset(models.Model):
    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="assets")
    asset_type = models.ForeignKey(AssetType, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("asset count")
        verbose_name_plural = _("asset counts")
        constraints = [
            models.UniqueConstraint(
                fields=["restaurant", "asset_type"], name="crm_asset_one_per_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_type}: {self.count}"


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ContactQuerySet":
        from crm.scope import contact_scope

        return self.filter(contact_scope(user))


class Contact(models.Model):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    search_name = models.CharField(max_length=210, editable=False, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    job = models.CharField(_("job"), max_length=100, blank=True)
    contact_type = models.ForeignKey(
        ContactType, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("type")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    restaurants = models.ManyToManyField(Restaurant, through="ContactLink", related_name="contacts")

    history = HistoricalRecords(excluded_fields=["search_name"])

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["search_name", "id"]
        indexes = [models.Index(Lower("email"), name="crm_contact_email_ci")]
        permissions = [("manage_contact", _("Can manage contacts"))]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.search_name = normalize_search(f"{self.last_name} {self.first_name}")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactLink(models.Model):
    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="contact_links"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links")
    role = models.CharField(
        _("role"), max_length=10, choices=ContactRole.choices, default=ContactRole.STAFF
    )

    class Meta:
        verbose_name = _("contact of a restaurant")
        verbose_name_plural = _("contacts of restaurants")
        constraints = [
            models.UniqueConstraint(
                fields=["restaurant", "contact", "role"], name="crm_contactlink_unique"
            ),
        ]
        indexes = [models.Index(fields=["contact", "restaurant"], name="crm_link_contact")]

    def __str__(self) -> str:
        return f"{self.contact} - {self.get_role_display()} - {self.restaurant}"


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ActivityQuerySet":
        return self.filter(restaurant__in=Restaurant.objects.visible_to(user))


class Activity(models.Model):
    """One entry of a restaurant's timeline."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    origin = models.CharField(_("origin"), max_length=40, blank=True, db_index=True)
    archived = models.BooleanField(_("archived"), default=False)
    while_prospect = models.BooleanField(_("while a prospect"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The timeline reads one restaurant's entries newest first, archived ones apart.
            models.Index(
                fields=["restaurant", "archived", "-occurred_at", "-id"],
                name="crm_activity_timeline",
            ),
            models.Index(fields=["restaurant", "kind", "-occurred_at"], name="crm_activity_kind"),
        ]

    def __str__(self) -> str:
        return self.subject


class ChangeRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ChangeRequestQuerySet":
        if user.has_perm("crm.decide_changerequest") or user.has_perm("crm.view_all_restaurants"):
            return self.all()
        return self.filter(requested_by=user)


class ChangeRequest(models.Model):
    """A field-by-field modification of a client record, asked by someone who may not edit it."""

    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="change_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # [{"field": "phone", "label": "Phone", "old": "...", "new": "..."}]
    changes = models.JSONField(_("changes"))
    comment = models.TextField(_("comment"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    objects = ChangeRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="crm_change_status"),
            # The request inbox's "decided in a month" filter.
            models.Index(fields=["status", "decided_at"], name="crm_change_decided"),
        ]
        permissions = [("decide_changerequest", _("Can apply or reject change requests"))]

    def __str__(self) -> str:
        return f"{self.restaurant} ({self.get_status_display()})"


class ConversionRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ConversionRequestQuerySet":
        if user.has_perm("crm.decide_conversionrequest") or user.has_perm(
            "crm.view_all_restaurants"
        ):
            return self.all()
        return self.filter(requested_by=user)


def signature_path(instance: "ConversionRequest", filename: str) -> str:
    return f"signatures/{instance.restaurant_id}/{timezone.now():%Y%m%d%H%M%S}.png"


class ConversionRequest(models.Model):
    """A prospect's request to become a client, validated (or rejected) by the accountant."""

    restaurant = models.ForeignKey(
        Restaurant, on_delete=models.CASCADE, related_name="conversion_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    payment_mode = models.CharField(_("payment mode"), max_length=20, choices=PaymentMode.choices)
    payment_days = models.PositiveSmallIntegerField(_("payment term (days)"))
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    signature = models.FileField(_("signature"), upload_to=signature_path, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    objects = ConversionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("client creation request")
        verbose_name_plural = _("client creation requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="crm_conversion_status"),
            # The request inbox's "decided in a month" filter.
            models.Index(fields=["status", "decided_at"], name="crm_conversion_decided"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["restaurant"],
                condition=Q(status=RequestStatus.PENDING),
                name="crm_one_pending_conversion",
                violation_error_message=_(
                    "A client creation request is already pending for this restaurant."
                ),
            ),
        ]
        permissions = [
            ("decide_conversionrequest", _("Can validate or reject client creation requests"))
        ]

    def __str__(self) -> str:
        return f"{self.restaurant} ({self.get_status_display()})"
