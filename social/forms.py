import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sales.enums import Network
from social.models import SocialProfile


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several images in one input; each is checked by the service with Pillow."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class PostForm(forms.Form):
    ACTIONS = (
        ("draft", _("Save as draft")),
        ("schedule", _("Schedule")),
        ("now", _("Publish now")),
    )

    accounts = forms.MultipleChoiceField(
        label=_("Publish on"), widget=forms.CheckboxSelectMultiple, required=True
    )
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https")
    images = MultipleImageField(label=_("Images"), required=False)
    remove_images = forms.MultipleChoiceField(
        label=_("Remove"), widget=forms.CheckboxSelectMultiple, required=False
    )
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    action = forms.ChoiceField(choices=ACTIONS, initial="draft")
    over_quota = forms.BooleanField(
        label=_("Go over the contract's posts per month for this one"), required=False
    )

    def __init__(self, *args, accounts, images=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.account_objects = {str(account.pk): account for account in accounts}
        self.fields["accounts"].choices = [
            (str(account.pk), f"{account.get_network_display()} - {account.name}")
            for account in accounts
        ]
        self.fields["remove_images"].choices = [(str(image.pk), image.pk) for image in images]

    def clean(self):
        data = super().clean()
        if data.get("action") == "schedule" and not (data.get("day") and data.get("time")):
            self.add_error("day", _("Choose the day and the time of publication."))
        return data

    def chosen_accounts(self) -> list:
        return [self.account_objects[key] for key in self.cleaned_data.get("accounts", [])]


class AccountForm(forms.Form):
    """An account added by hand: TripAdvisor (no OAuth) or a location id given by the client."""

    network = forms.ChoiceField(
        label=_("Network"), choices=[(Network.TRIPADVISOR, Network.TRIPADVISOR.label)]
    )
    external_id = forms.RegexField(
        label=_("TripAdvisor location id"),
        regex=r"^[0-9]{1,20}$",
        error_messages={"invalid": _("The location id is the number in the TripAdvisor link.")},
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    url = forms.URLField(label=_("Link"), required=False, assume_scheme="https")


class ProfileForm(forms.ModelForm):
    class Meta:
        model = SocialProfile
        fields = ["average_ticket"]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)
