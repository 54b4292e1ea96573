import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access.matrix import _WORLD, ANONYMOUS, MATRIX, ROLES

# Admin has its own permission checks, tested in tests/accounts/test_admin.py.
EXCLUDED_NAMESPACES = {"admin"}


def _url_names(resolver: URLResolver, prefix: str = "") -> list[str]:
    names = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names += _url_names(entry, namespace)
        elif isinstance(entry, URLPattern):
            names.append(f"{prefix}{entry.name}" if entry.name else f"<unnamed {entry.pattern}>")
    return names


def test_every_url_is_in_the_matrix():
    declared = {row.name for row in MATRIX}
    missing = sorted(set(_url_names(get_resolver())) - declared)

    assert missing == [], f"URLs missing from tests/access/matrix.py: {missing}"


def test_every_row_names_every_role_and_anonymous():
    for row in MATRIX:
        assert set(row.expected) == {*ROLES, ANONYMOUS}, row.name


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*ROLES, ANONYMOUS])
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.name)
def test_access(client, persona, row, who):
    # Every persona exists before the row's records are built (they are assigned to them).
    users = {role: persona(role) for role in ROLES}
    _WORLD.clear()
    if row.setup:
        row.setup()
    if who != ANONYMOUS:
        client.force_login(users[who])
    url = reverse(row.name, kwargs=row.kwargs())

    response = getattr(client, row.method)(url, row.data)

    assert response.status_code == row.expected[who], f"{row.method.upper()} {url} as {who}"
