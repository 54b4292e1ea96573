"""Expansion of the permission hierarchy declared in accounts.roles."""

from functools import cache

from django.apps import apps

from accounts.roles import ADMIN_ONLY, IMPLIES
from comadvisor.models import SettingsModel


@cache
def _closure() -> dict[str, frozenset[str]]:
    closure: dict[str, frozenset[str]] = {}

    def visit(perm: str, path: tuple[str, ...]) -> frozenset[str]:
        if perm in closure:
            return closure[perm]
        if perm in path:
            raise ValueError(f"Cycle in the permission hierarchy: {' -> '.join((*path, perm))}")
        implied: set[str] = set()
        for child in IMPLIES.get(perm, ()):
            implied.add(child)
            implied |= visit(child, (*path, perm))
        closure[perm] = frozenset(implied)
        return closure[perm]

    for perm in IMPLIES:
        visit(perm, ())
    return closure


def expand(perms: set[str] | frozenset[str]) -> set[str]:
    """`perms` plus everything they imply."""
    closure = _closure()
    expanded = set(perms)
    for perm in perms:
        expanded |= closure.get(perm, frozenset())
    return expanded


@cache
def admin_only_permissions() -> frozenset[str]:
    """Permissions no one but an admin holds: ADMIN_ONLY and writes to settings models."""
    reserved = set(ADMIN_ONLY)
    for model in apps.get_models():
        if issubclass(model, SettingsModel):
            meta = model._meta
            reserved |= {
                f"{meta.app_label}.{action}_{meta.model_name}"
                for action in ("add", "change", "delete")
            }
    return frozenset(reserved)
