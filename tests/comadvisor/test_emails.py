import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError

from comadvisor.emails import (
    check_template,
    declared_names,
    email_render,
    email_send,
    sample_context,
)
from comadvisor.models import EmailTemplate

pytestmark = pytest.mark.django_db

# Every notification's template, made by the apps' data migrations.
TEMPLATE_KEYS = {
    "accounts-invitation",
    "crm-change-request",
    "crm-change-request-applied",
    "crm-change-request-rejected",
    "crm-conversion-rejected",
    "crm-conversion-requested",
    "crm-conversion-validated",
    "field-devices-held",
    "field-envelope-name-clash",
    "field-envelopes-quarantined",
    "reports-due",
    "reports-monthly",
    "sales-contract-ending",
    "social-reconnect-needed",
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_template_renders_all_its_placeholders_in_both_languages(language):
    templates = list(EmailTemplate.objects.all())
    # Without templates the loop below would check nothing.
    assert TEMPLATE_KEYS - {template.key for template in templates} == set()
    for template in templates:
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


# --- Templates checked when saved, call sites checked against the placeholders ----------------


def test_every_template_reads_only_its_declared_placeholders():
    for template in EmailTemplate.objects.all():
        for field in ("subject_fr", "body_fr", "subject_en", "body_en"):
            check_template(text=getattr(template, field), placeholders=template.placeholders)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("Bonjour {{ nmae }}", "{{ nmae }}"),
        ("{% for row in rows %}{{ row.nom }}{% endfor %}", "{{ rows.nom }}"),
        ("{% if mounth %}x{% endif %}", "{{ mounth }}"),
        ("{{ name|default:titre }}", "{{ titre }}"),
    ],
)
def test_a_misspelt_placeholder_is_named(text, bad):
    with pytest.raises(ValidationError) as refused:
        check_template(text=text, placeholders="name, rows.field")

    assert bad in refused.value.messages[0]


def test_loops_withs_and_string_attributes_are_understood():
    check_template(
        text="{% for row in rows %}{{ forloop.counter }} {{ row.field }}{% endfor %}"
        "{% with n=name %}{{ n }}{% endwith %}{{ name.upper }}",
        placeholders="name, rows.field",
    )


def _change_url(template):
    return f"/admin/comadvisor/emailtemplate/{template.pk}/change/"


def _posted(template, **changes):
    data = {
        "subject_fr": template.subject_fr, "body_fr": template.body_fr,
        "subject_en": template.subject_en, "body_en": template.body_en,
    }  # fmt: skip
    return {**data, **changes}


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("body_fr", "Bonjour {{ nmae }}", "{{ nmae }}"),
        ("subject_en", "Welcome {% if %}", "Unexpected end of expression"),
    ],
)
def test_admin_refuses_a_broken_template_and_keeps_the_saved_one(
    client, admin_user, field, text, message
):
    template = EmailTemplate.objects.get(key="accounts-invitation")
    before = getattr(template, field)
    client.force_login(admin_user)

    response = client.post(_change_url(template), _posted(template, **{field: text}))

    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    template.refresh_from_db()
    assert getattr(template, field) == before


def test_admin_saves_a_template_that_fits_its_placeholders(client, admin_user):
    template = EmailTemplate.objects.get(key="accounts-invitation")
    client.force_login(admin_user)

    response = client.post(
        _change_url(template), _posted(template, subject_en="{{ company }}: your account")
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.subject_en == "{{ company }}: your account"


# Every place that sends a notification, read from the source: the template key and the keys of
# the context it passes (and of its rows) must be the template's declared placeholders.
SENDERS = {"email_send", "_email_after_commit", "notify_admins"}
APPS = ("accounts", "comadvisor", "crm", "sales", "social", "reports", "field")


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _enclosing(tree: ast.Module, target: ast.AST) -> ast.FunctionDef | None:
    """The innermost function holding `target`."""
    holders = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and any(child is target for child in ast.walk(node))
    ]
    return min(holders, key=lambda node: len(list(ast.walk(node))), default=None)


def _assigned(function: ast.FunctionDef, name: str) -> ast.AST | None:
    values = [
        node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]
    return values[-1] if values else None


def _dict_keys(node: ast.Dict) -> set[str]:
    keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
    assert len(keys) == len(node.keys), ast.unparse(node)
    return keys


def _rows_fields(value: ast.AST, function, functions) -> set[str] | None:
    """The keys of each row when `value` builds a list of dicts; None when it is no list."""
    if isinstance(value, ast.Name) and function is not None:
        value = _assigned(function, value.id) or value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        helper = functions.get(value.func.id)
        returned = (
            [n.value for n in ast.walk(helper) if isinstance(n, ast.Return)] if helper else []
        )
        value = returned[0] if returned else value
    if isinstance(value, ast.ListComp) and isinstance(value.elt, ast.Dict):
        return _dict_keys(value.elt)
    return None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _call_sites() -> list[tuple[str, str, dict[str, set[str] | None]]]:
    sites = []
    root = Path(settings.BASE_DIR)
    for path in sorted(p for app in APPS for p in (root / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        functions = _functions(tree)
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = getattr(call.func, "id", getattr(call.func, "attr", None))
            key, context = _keyword(call, "key"), _keyword(call, "context")
            if name not in SENDERS or key is None or context is None:
                continue
            function = _enclosing(tree, call)
            params = (
                {a.arg for a in function.args.args + function.args.kwonlyargs}
                if function
                else set()
            )
            if (
                isinstance(key, ast.Name)
                and isinstance(context, ast.Name)
                and {key.id, context.id} <= params
            ):
                continue  # a helper passing its own arguments on
            if isinstance(context, ast.Name):
                context = _assigned(function, context.id)
            assert isinstance(context, ast.Dict), f"{path}:{call.lineno}: context not a dict"
            fields = {
                k.value: _rows_fields(v, function, functions)
                for k, v in zip(context.keys, context.values, strict=True)
            }
            if isinstance(key, ast.Constant):
                keys = [key.value]
            else:  # the key is the enclosing function's parameter: read its callers
                index = [a.arg for a in function.args.args].index(key.id)
                keys = [
                    (c.args[index] if len(c.args) > index else _keyword(c, key.id)).value
                    for c in ast.walk(tree)
                    if isinstance(c, ast.Call) and getattr(c.func, "id", None) == function.name
                ]
            sites += [(f"{path.relative_to(root)}:{call.lineno}", k, fields) for k in keys]
    return sites


# Keys a call site passes that its template does not declare, each with why it is harmless.
# Any other difference fails: a declared placeholder missing renders as nothing.
UNDECLARED = {
    # crm.services._notify_requester builds one context for the applied and the rejected
    # notices; the reason is always empty when a request is applied.
    ("crm-change-request-applied", "reason"),
}


def test_each_call_site_passes_exactly_the_declared_placeholders():
    sites = _call_sites()
    templates = {t.key: t for t in EmailTemplate.objects.all()}

    assert {key for _where, key, _fields in sites} == set(templates), "a template without sender"
    assert len(sites) >= len(templates)
    for where, key, fields in sites:
        plain, rows = declared_names(templates[key].placeholders)
        extra = {name for name in set(fields) - plain - set(rows) if (key, name) not in UNDECLARED}
        assert (plain | set(rows)) - set(fields) == set(), (where, key, "missing")
        assert extra == set(), (where, key, "not declared")
        for name, row_fields in rows.items():
            assert fields[name] == row_fields, (where, key, name)
        for name in plain:
            assert fields[name] is None, (where, key, name, "rows for a plain placeholder")
