"""Notifications rendered from admin-edited, translated e-mail templates."""

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _

from comadvisor.models import EmailTemplate, SiteSettings

# A bare engine: admin-written templates get the placeholders and the default filters, nothing
# else (no loaders, no app tags), and their values are plain strings.
_ENGINE = Engine(debug=False, autoescape=False)


def _language(language: str | None) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    return language if language in codes else settings.LANGUAGE_CODE


def _plain(value: object) -> object:
    """Strings for the template: a list of rows (for {% for %}) stays a list of string mappings."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [
            {k: _plain(v) for k, v in row.items()} if isinstance(row, Mapping) else _plain(row)
            for row in value
        ]
    return str(value)


def sample_context(placeholders: str) -> dict[str, object]:
    """Visible stand-ins for a template's placeholders; "rows.field" declares a list of rows."""
    context: dict[str, object] = {}
    for name in (part.strip() for part in placeholders.split(",")):
        if not name:
            continue
        if "." in name:
            rows, field = name.split(".", 1)
            existing = context.setdefault(rows, [{}])
            existing[0][field] = f"[{name}]"
        else:
            context[name] = f"[{name}]"
    return context


def render_template_text(text: str, context: Mapping[str, object]) -> str:
    try:
        template = _ENGINE.from_string(text)
    except TemplateSyntaxError as error:
        raise ValidationError(
            _("The template is not valid: %(error)s") % {"error": error}
        ) from error
    return template.render(
        Context(
            {key: _plain(value) for key, value in context.items()},
            autoescape=False,
        )
    )


def email_render(
    *, key: str, context: Mapping[str, object], language: str | None
) -> tuple[str, str]:
    """The (subject, body) of template `key` in `language` (French when unknown)."""
    template = EmailTemplate.objects.get(key=key)
    language = _language(language)
    subject = render_template_text(getattr(template, f"subject_{language}"), context)
    body = render_template_text(getattr(template, f"body_{language}"), context)
    # A subject is one line whatever the placeholders held.
    return " ".join(subject.split()), body


def email_send(
    *,
    key: str,
    to: Iterable[str],
    context: Mapping[str, object],
    language: str | None = None,
    attachments: Iterable[tuple[str, bytes, str]] = (),
) -> EmailMessage | None:
    """Render template `key` and send it to `to`; nothing is sent to an empty recipient list."""
    recipients = [address for address in to if address]
    if not recipients:
        return None
    subject, body = email_render(key=key, context=context, language=language)
    site = SiteSettings.load()
    message = EmailMessage(
        subject=subject,
        body=body,
        to=recipients,
        reply_to=[site.support_email] if site.support_email else None,
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send()
    return message
