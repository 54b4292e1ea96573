"""The services' transactions.

A service's writes are atomic: called on its own it opens a transaction; called inside another
one it opens a savepoint, so that its caller may recover from its failure and go on. A caller
that never recovers — it rolls its whole transaction back on any failure, as the field kit's
integration does for each envelope — says so with `whole_or_nothing()`: the services it calls
then open no savepoint (two statements fewer each), and a failure marks the whole transaction
for rollback, which is what that caller does anyway.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")

_whole = ContextVar("comadvisor_whole_or_nothing", default=False)


@contextmanager
def whole_or_nothing() -> Iterator[None]:
    """Inside this block the caller's transaction is all or nothing: no service savepoints."""
    token = _whole.set(True)
    try:
        yield
    finally:
        _whole.reset(token)


def service_atomic(func: Callable[P, R]) -> Callable[P, R]:
    """`transaction.atomic` for a service, without its savepoint under `whole_or_nothing()`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(savepoint=not _whole.get()):
            return func(*args, **kwargs)

    return wrapper
