"""Notifications rendered from admin-edited, translated e-mail templates."""

import functools
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Variable
from django.template.defaulttags import ForNode, IfNode, TemplateLiteral, WithNode
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


def declared_names(placeholders: str) -> tuple[set[str], dict[str, set[str]]]:
    """A template's declared placeholders: the plain names, and the rows' fields by rows name
    ("reports.name" declares rows `reports` with a field `name`)."""
    plain: set[str] = set()
    rows: dict[str, set[str]] = {}
    for name in (part.strip() for part in placeholders.split(",")):
        if "." in name:
            rows_name, field = name.split(".", 1)
            rows.setdefault(rows_name, set()).add(field)
        elif name:
            plain.add(name)
    return plain, rows


def template_names(text: str) -> set[str]:
    """The names a template reads: "name", or "rows.field" inside {% for row in rows %}. Names
    its own tags bind ({% with %}, forloop) are left out. Raises ValidationError when the text
    does not parse."""
    try:
        template = _ENGINE.from_string(text)
    except TemplateSyntaxError as error:
        raise ValidationError(
            _("The template is not valid: %(error)s") % {"error": error}
        ) from error
    found: set[str] = set()
    _walk(template.nodelist, {}, found)
    return found


def _walk(nodelist, bound: dict[str, str | None], found: set[str]) -> None:
    """`bound`: names bound by enclosing tags, to the rows they iterate (None: not rows)."""
    for node in nodelist:
        if isinstance(node, ForNode):
            _expression(node.sequence, bound, found)
            rows = _name(node.sequence.var, bound)
            inner = {**bound, **dict.fromkeys(node.loopvars, rows), "forloop": None}
            _walk(node.nodelist_loop, inner, found)
            _walk(node.nodelist_empty, bound, found)
            continue
        if isinstance(node, WithNode):
            for value in node.extra_context.values():
                _expression(value, bound, found)
            _walk(node.nodelist, {**bound, **dict.fromkeys(node.extra_context)}, found)
            continue
        if isinstance(node, IfNode):
            for condition, branch in node.conditions_nodelists:
                _condition(condition, bound, found)
                _walk(branch, bound, found)
            continue
        for value in vars(node).values():
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, FilterExpression):
                    _expression(item, bound, found)
        for attribute in node.child_nodelists:
            _walk(getattr(node, attribute, None) or [], bound, found)


def _condition(condition, bound, found) -> None:
    if condition is None:
        return
    if isinstance(condition, TemplateLiteral):
        _expression(condition.value, bound, found)
        return
    for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
        _condition(part, bound, found)


def _expression(expression: FilterExpression, bound, found) -> None:
    variables = [expression.var] + [
        argument for _filter, arguments in expression.filters for lookup, argument in arguments
        if lookup
    ]  # fmt: skip
    for variable in variables:
        name = _name(variable, bound)
        if name:
            found.add(name)


def _name(variable, bound: dict[str, str | None]) -> str | None:
    """The placeholder a variable reads, or None for a literal or a name bound in the template."""
    if not isinstance(variable, Variable) or variable.lookups is None:
        return None
    first, *rest = variable.lookups
    if first in bound:
        rows = bound[first]
        return f"{rows}.{rest[0]}" if rows and rest else None
    return first if not rest else f"{first}.{rest[0]}"


def check_template(*, text: str, placeholders: str) -> None:
    """A ValidationError naming what does not fit: a syntax error, or a name the template reads
    that its placeholders do not declare (a misspelt placeholder renders as nothing)."""
    plain, rows = declared_names(placeholders)
    unknown = []
    for name in sorted(template_names(text)):
        head, _dot, field = name.partition(".")
        if head in rows and (not field or field in rows[head]):
            continue
        if head in plain:  # a string's own attribute ({{ name.upper }}) is harmless
            continue
        unknown.append(name)
    if unknown:
        raise ValidationError(
            _("Unknown placeholder(s): %(names)s. Available: %(available)s.")
            % {
                "names": ", ".join(f"{{{{ {name} }}}}" for name in unknown),
                "available": placeholders or "—",
            }
        )
    render_template_text(text, sample_context(placeholders))


@functools.lru_cache(maxsize=256)
def _compiled(text: str):
    """A template's text compiled once per process (keyed by the text itself, so an admin's
    edit is a new entry; compiled templates are reused across threads as Django's own are)."""
    return _ENGINE.from_string(text)


def render_template_text(text: str, context: Mapping[str, object]) -> str:
    try:
        template = _compiled(text)
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
