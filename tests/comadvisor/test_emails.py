import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from comadvisor.emails import email_render, email_send, sample_context
from comadvisor.models import EmailTemplate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_template_renders_all_its_placeholders_in_both_languages(language):
    for template in EmailTemplate.objects.all():
        names = [name.strip() for name in template.placeholders.split(",") if name.strip()]

        subject, body = email_render(
            key=template.key, context=sample_context(template.placeholders), language=language
        )

        text = subject + body
        assert "{{" not in text and "{%" not in text, template.key
        for name in names:
            assert f"[{name}]" in text, (template.key, language, name)


def test_unknown_language_falls_back_to_french():
    subject, _body = email_render(
        key="accounts-invitation", context={"company": "X"}, language="de"
    )

    assert subject == "Votre compte CRM X"


def test_placeholders_are_not_html_escaped_and_subject_is_one_line():
    subject, body = email_render(
        key="accounts-invitation",
        context={"company": "Dupont & Fils\nSA", "name": "O'Neil"},
        language="en",
    )

    assert subject == "Your Dupont & Fils SA CRM account"
    assert "Hello O'Neil," in body


def test_broken_template_is_a_validation_error():
    EmailTemplate.objects.filter(key="accounts-invitation").update(subject_fr="{% if %}")

    with pytest.raises(ValidationError):
        email_render(key="accounts-invitation", context={}, language="fr")


def test_email_send_skips_empty_recipients():
    assert email_send(key="accounts-invitation", to=["", None], context={}) is None
    assert mail.outbox == []


def test_admin_preview_shows_both_languages(client, admin_user):
    client.force_login(admin_user)
    template = EmailTemplate.objects.get(key="accounts-invitation")

    page = client.get(f"/admin/comadvisor/emailtemplate/{template.pk}/change/").content.decode()

    assert "Votre compte CRM [company]" in page
    assert "Your [company] CRM account" in page


def test_direction_cannot_edit_templates(client, direction):
    client.force_login(direction)
    template = EmailTemplate.objects.get(key="accounts-invitation")

    response = client.post(
        f"/admin/comadvisor/emailtemplate/{template.pk}/change/",
        {"subject_fr": "x", "subject_en": "x", "body_fr": "x", "body_en": "x"},
    )

    assert response.status_code == 403
