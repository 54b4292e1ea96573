from django import forms
from django.conf import settings
from django.db import models
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from accounts.enums import RoleName
from accounts.models import User
from comadvisor.forms import DateInput, DateTimeInput, StyledFormMixin
from crm.enums import (
    MANUAL_ACTIVITY_KINDS,
    ContactRole,
    CustomFieldKind,
    PaymentMode,
    RestaurantStatus,
)
from crm.models import Contact, ContactType, CustomField, Restaurant, Segment, Zone
from crm.services import CHANGE_REQUEST_FIELDS, EDITABLE_FIELDS

ASSIGNMENT_FIELDS = ("sales_agent", "community_manager", "review_manager")


# Identifiers are typed with spaces and dots ("732 829 320 00074"); the services normalise them.
LOOSE_LENGTH = {"phone": 30, "siret": 30, "vat_number": 30}


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    if model_field.name in LOOSE_LENGTH:
        kwargs["max_length"] = LOOSE_LENGTH[model_field.name]
    return model_field.formfield(**kwargs)


def _users_with_role(role: RoleName):
    return User.objects.filter(groups__name=role, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def custom_form_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for field in CustomField.objects.filter(active=True):
        name = f"cf_{field.key}"
        common = {"label": field.label, "required": field.required}
        if field.kind == CustomFieldKind.NUMBER:
            fields[name] = forms.DecimalField(**common)
        elif field.kind == CustomFieldKind.DATE:
            fields[name] = forms.DateField(widget=DateInput, **common)
        elif field.kind == CustomFieldKind.CHOICE:
            fields[name] = forms.ChoiceField(
                choices=[("", "—"), *[(c, c) for c in field.choice_list]], **common
            )
        else:
            fields[name] = forms.CharField(max_length=500, **common)
    return fields


class RestaurantForm(StyledFormMixin, forms.Form):
    """The restaurant's fields and the admin-defined custom fields, cleaned for the services."""

    def __init__(self, *args, user: User, restaurant: Restaurant | None = None, **kwargs):
        if restaurant is not None and "initial" not in kwargs:
            initial = {name: getattr(restaurant, name) for name in EDITABLE_FIELDS}
            initial.update({f"cf_{k}": v for k, v in restaurant.custom_data.items()})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(Restaurant, fields=EDITABLE_FIELDS, formfield_callback=_formfield)
        )
        self.fields["name"].required = True
        self.fields["segment"].queryset = Segment.objects.all()
        self.fields["zone"].queryset = Zone.objects.all()
        self.fields["zone"].help_text = _("Set from the postal code when a zone covers it.")
        self.fields["sales_agent"].queryset = _users_with_role(RoleName.SALES_AGENT)
        self.fields["community_manager"].queryset = _users_with_role(RoleName.COMMUNITY_MANAGER)
        self.fields["review_manager"].queryset = _users_with_role(RoleName.REVIEW_MANAGER)
        self.fields["revisit_date"].widget = DateInput()
        # Left empty, a restaurant speaks the site's default language.
        self.fields["language"].required = False
        if not user.has_perm("crm.assign_restaurant"):
            for name in ASSIGNMENT_FIELDS:
                del self.fields[name]
        self.fields.update(custom_form_fields())
        self.style_widgets()

    def restaurant_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("cf_")}
        if "language" in data and not data["language"]:
            data["language"] = settings.LANGUAGE_CODE
        return data

    def custom_data(self) -> dict:
        return {k[3:]: v for k, v in self.cleaned_data.items() if k.startswith("cf_")}

    def custom_fields(self):
        return [self[name] for name in self.fields if name.startswith("cf_")]

    def main_fields(self):
        return [self[name] for name in self.fields if not name.startswith("cf_")]


class ActivityForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k.value, k.label) for k in MANUAL_ACTIVITY_KINDS]
    )
    subject = forms.CharField(label=_("Summary"), max_length=255)
    body = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=DateTimeInput,
    )


class ChangeRequestForm(StyledFormMixin, forms.Form):
    """Every changeable field, filled with today's value: what the user alters is the request."""

    comment = forms.CharField(
        label=_("Comment for the accountant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, restaurant: Restaurant, **kwargs):
        kwargs.setdefault(
            "initial", {name: getattr(restaurant, name) for name in CHANGE_REQUEST_FIELDS}
        )
        super().__init__(*args, **kwargs)
        fields = fields_for_model(
            Restaurant, fields=CHANGE_REQUEST_FIELDS, formfield_callback=_formfield
        )
        for field in fields.values():
            field.required = False
        fields["name"].required = True
        self.fields = {**fields, "comment": self.fields["comment"]}
        self.restaurant = restaurant
        self.style_widgets()

    def changed_values(self) -> dict:
        values = {}
        for name in CHANGE_REQUEST_FIELDS:
            new = self.cleaned_data.get(name)
            current = getattr(self.restaurant, name)
            if (new or None) != (current or None):
                values[name] = new if new is not None else ""
        return values


class ConversionForm(StyledFormMixin, forms.Form):
    payment_mode = forms.ChoiceField(label=_("Payment mode"), choices=PaymentMode.choices)
    payment_days = forms.IntegerField(
        label=_("Payment term (days after invoice)"), min_value=0, max_value=120, required=False
    )
    iban = forms.CharField(label=_("IBAN"), max_length=42, required=False)
    bic = forms.CharField(label=_("BIC"), max_length=11, required=False)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)
    comment = forms.CharField(
        label=_("Comment for the accountant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ValidateConversionForm(StyledFormMixin, forms.Form):
    client_code = forms.CharField(label=_("Client code"), max_length=20)


class RejectForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ReassignForm(StyledFormMixin, forms.Form):
    STATUS_CHOICES = [
        ("prospect", _("Prospects only")),
        ("client", _("Clients only")),
        ("both", _("Prospects and clients")),
    ]
    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.all(), required=False)
    postal_prefix = forms.CharField(
        label=_("Postal code starts with"), max_length=5, required=False
    )
    current_agent = forms.ModelChoiceField(
        label=_("Current sales agent"), queryset=User.objects.none(), required=False
    )
    status = forms.ChoiceField(label=_("Which"), choices=STATUS_CHOICES, initial="both")
    new_agent = forms.ModelChoiceField(
        label=_("New sales agent"), queryset=User.objects.none(), required=False
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agents = _users_with_role(RoleName.SALES_AGENT)
        self.fields["current_agent"].queryset = agents
        self.fields["new_agent"].queryset = agents

    def statuses(self) -> list[str]:
        status = self.cleaned_data.get("status") or "both"
        if status == "both":
            return [RestaurantStatus.PROSPECT, RestaurantStatus.CLIENT]
        return [status]


class ContactForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "job", "contact_type"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_type"].queryset = ContactType.objects.all()


class ContactLinkForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=ContactRole.choices, initial=ContactRole.OWNER
    )
    existing = forms.ModelChoiceField(
        label=_("Existing contact"), queryset=Contact.objects.none(), required=False,
        help_text=_("Or fill in a new contact below."),
    )  # fmt: skip

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["existing"].queryset = contacts


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_("Columns as in the export; one restaurant per row."),
    )
