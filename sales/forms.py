from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comadvisor.forms import DateInput, DateTimeInput, StyledFormMixin
from crm.models import Restaurant
from sales.enums import Network, VisitKind
from sales.models import Pack
from sales.services import revisit_from_preset

DURATIONS = [(13, _("13 months")), (26, _("26 months"))]


class ContractForm(StyledFormMixin, forms.Form):
    pack = forms.ModelChoiceField(label=_("Pack"), queryset=Pack.objects.filter(active=True))
    start_date = forms.DateField(label=_("Start"), widget=DateInput)
    duration_months = forms.IntegerField(
        label=_("Duration (months)"), min_value=1, max_value=120, initial=13,
        help_text=_("13 or 26 months usually; any number is allowed."),
    )  # fmt: skip
    monthly_price = forms.DecimalField(
        label=_("Monthly price (€)"), min_value=0, max_digits=8, decimal_places=2, required=False,
        help_text=_("Empty: the pack's price."),
    )  # fmt: skip
    posts_per_month = forms.IntegerField(
        label=_("Posts per month"), min_value=0, required=False, help_text=_("Empty: the pack's.")
    )
    networks = forms.MultipleChoiceField(
        label=_("Networks"), choices=Network.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the pack's."),
    )  # fmt: skip


class UpgradeForm(StyledFormMixin, forms.Form):
    starts_on = forms.DateField(label=_("From"), widget=DateInput)
    pack = forms.ModelChoiceField(label=_("Pack"), queryset=Pack.objects.filter(active=True))
    monthly_price = forms.DecimalField(
        label=_("Monthly price (€)"), min_value=0, max_digits=8, decimal_places=2
    )
    posts_per_month = forms.IntegerField(label=_("Posts per month"), min_value=0)
    networks = forms.MultipleChoiceField(
        label=_("Networks"), choices=Network.choices, widget=forms.CheckboxSelectMultiple
    )


class SuspendForm(StyledFormMixin, forms.Form):
    start_date = forms.DateField(label=_("Suspended from"), widget=DateInput)
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ResumeForm(StyledFormMixin, forms.Form):
    end_date = forms.DateField(label=_("Last suspended day"), widget=DateInput)


class EndForm(StyledFormMixin, forms.Form):
    ended_at = forms.DateField(label=_("Ends on"), widget=DateInput)
    reason = forms.CharField(label=_("Reason"), max_length=255)


class RenewForm(StyledFormMixin, forms.Form):
    duration_months = forms.IntegerField(
        label=_("Duration (months)"), min_value=1, max_value=120, initial=13
    )


REVISIT_PRESETS = [
    ("", _("No revisit date")),
    ("1w", _("In 1 week")),
    ("2w", _("In 2 weeks")),
    ("1m", _("In 1 month")),
    ("3m", _("In 3 months")),
    ("6m", _("In 6 months")),
    ("1y", _("In 1 year")),
    ("date", _("On a date")),
]


class PlanVisitForm(StyledFormMixin, forms.Form):
    restaurant = forms.ModelChoiceField(label=_("Restaurant"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=VisitKind.choices)
    start = forms.DateTimeField(label=_("Start"), widget=DateTimeInput)
    end = forms.DateTimeField(label=_("End"), widget=DateTimeInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["restaurant"].queryset = (
            Restaurant.objects.visible_to(user).active().order_by("search_name")
        )
        self.style_widgets()


class _AnswersMixin:
    """Answers come as `answers` (checkbox groups) and `answers_<group id>` (radio groups)."""

    def chosen_nodes(self) -> list[int]:
        if not self.is_bound:
            return []
        values = list(self.data.getlist("answers")) if hasattr(self.data, "getlist") else []
        values += [value for key, value in self.data.items() if key.startswith("answers_")]
        chosen = []
        for value in values:
            try:
                chosen.append(int(value))
            except (TypeError, ValueError):
                self.add_error(None, _("An answer is not part of the visit form."))
        return chosen

    def revisit(self, today) -> date | None:
        preset = self.cleaned_data.get("revisit_preset")
        if preset == "date":
            return self.cleaned_data.get("revisit_date")
        return revisit_from_preset(preset, today) if preset else None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("revisit_preset") == "date" and not cleaned.get("revisit_date"):
            self.add_error("revisit_date", _("Choose the revisit date."))
        return cleaned


class VisitTodayForm(_AnswersMixin, StyledFormMixin, forms.Form):
    day = forms.DateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)
    kind = forms.ChoiceField(label=_("Kind"), choices=VisitKind.choices)
    report = forms.CharField(
        label=_("Report"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    pack_offered = forms.ModelChoiceField(
        label=_("Pack offered"), queryset=Pack.objects.filter(active=True), required=False
    )
    revisit_preset = forms.ChoiceField(label=_("Revisit"), choices=REVISIT_PRESETS, required=False)
    revisit_date = forms.DateField(label=_("Revisit date"), widget=DateInput, required=False)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "day": data["day"],
            "kind": data["kind"],
            "report": data["report"],
            "answers": self.chosen_nodes(),
            "pack_offered": data["pack_offered"],
            "revisit_date": self.revisit(timezone.localdate()),
        }


class VisitDoneForm(_AnswersMixin, StyledFormMixin, forms.Form):
    report = forms.CharField(
        label=_("Report"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    pack_offered = forms.ModelChoiceField(
        label=_("Pack offered"), queryset=Pack.objects.filter(active=True), required=False
    )
    revisit_preset = forms.ChoiceField(label=_("Revisit"), choices=REVISIT_PRESETS, required=False)
    revisit_date = forms.DateField(label=_("Revisit date"), widget=DateInput, required=False)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "report": data["report"],
            "answers": self.chosen_nodes(),
            "pack_offered": data["pack_offered"],
            "revisit_date": self.revisit(timezone.localdate()),
        }


class OpportunityForm(StyledFormMixin, forms.Form):
    restaurant = forms.ModelChoiceField(label=_("Restaurant"), queryset=None)
    pack = forms.ModelChoiceField(
        label=_("Pack"), queryset=Pack.objects.filter(active=True), required=False
    )
    monthly_amount = forms.DecimalField(
        label=_("Monthly amount (€)"), min_value=0, max_digits=8, decimal_places=2, required=False
    )
    expected_close = forms.DateField(label=_("Expected close"), widget=DateInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["restaurant"].queryset = (
            Restaurant.objects.visible_to(user).active().order_by("search_name")
        )
        self.style_widgets()

    def clean_monthly_amount(self):
        return self.cleaned_data.get("monthly_amount") or Decimal(0)
