"""The suite's guard (tests/conftest.py): connections and name lookups stay on loopback."""

import socket

import pytest

from tests import conftest


@pytest.fixture
def blocked():
    """The guard's record of refused attempts, emptied after the test (it wanted them)."""
    yield conftest._BLOCKED
    conftest._BLOCKED.clear()


@pytest.mark.parametrize("address", [("93.184.216.34", 443), ("2001:db8::1", 443, 0, 0)])
def test_a_connection_off_the_machine_is_refused(blocked, address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(conftest.NetworkBlocked):
            sock.connect(address)
        with pytest.raises(conftest.NetworkBlocked):
            sock.connect_ex(address)
    assert blocked == [repr(address)] * 2


def test_a_lookup_of_an_outside_name_is_refused(blocked):
    with pytest.raises(conftest.NetworkBlocked):
        socket.getaddrinfo("graph.facebook.com", 443)

    assert blocked == ["a lookup of graph.facebook.com"]


def test_loopback_is_allowed(blocked):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=2):
            pass

    assert blocked == []
