"""EncryptedTextField: tokens and credentials are stored encrypted with the FIELD_ENCRYPTION_KEYS
(newest first: the first encrypts, every one decrypts), and a value no configured key opens fails
loudly rather than reading as garbage."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from comadvisor import fields
from social.models import SocialAccount
from tests.factories import RestaurantFactory

ROOT = Path(__file__).resolve().parents[2]
SECRET = '{"access_token": "EAAB-very-secret-token"}'
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def use_keys(settings):
    """Configure the keys as the environment would; the field builds its cipher once per process
    (settings do not change at run time), so the cache is cleared around each change."""

    def configure(*keys: str) -> None:
        settings.FIELD_ENCRYPTION_KEYS = list(keys)
        fields._fernet.cache_clear()

    yield configure
    fields._fernet.cache_clear()


def _account(credentials: str = SECRET) -> SocialAccount:
    return SocialAccount.objects.create(
        restaurant=RestaurantFactory(client=True),
        network="facebook",
        external_id="page-1",
        name="Le Bistro",
        credentials=credentials,
        demo=False,
    )


def _stored(account: SocialAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM social_socialaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_stored_value_is_encrypted_with_the_configured_key(use_keys):
    use_keys(NEW_KEY)

    account = _account()

    stored = _stored(account)
    assert "EAAB" not in stored and "access_token" not in stored
    assert Fernet(NEW_KEY.encode()).decrypt(stored.encode()).decode() == SECRET
    assert SocialAccount.objects.get(pk=account.pk).credentials == SECRET


@pytest.mark.django_db
def test_empty_credentials_stay_empty(use_keys):
    use_keys(NEW_KEY)

    account = _account(credentials="")

    assert _stored(account) == ""
    assert SocialAccount.objects.get(pk=account.pk).credentials == ""


@pytest.mark.django_db
def test_after_rotation_old_values_still_read_and_new_ones_use_the_new_key(use_keys):
    use_keys(OLD_KEY)
    old = _account()

    use_keys(NEW_KEY, OLD_KEY)
    read_back = SocialAccount.objects.get(pk=old.pk).credentials
    old.credentials = '{"access_token": "refreshed"}'
    old.save(update_fields=["credentials"])

    assert read_back == SECRET
    stored = _stored(old)
    assert Fernet(NEW_KEY.encode()).decrypt(stored.encode()) == b'{"access_token": "refreshed"}'
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY.encode()).decrypt(stored.encode())


@pytest.mark.django_db
def test_a_value_no_configured_key_opens_raises_a_clear_error(use_keys):
    use_keys(OLD_KEY)
    account = _account()

    use_keys(NEW_KEY)

    with pytest.raises(ImproperlyConfigured, match="cannot be read with the configured keys"):
        SocialAccount.objects.get(pk=account.pk)


def test_a_key_that_is_not_a_fernet_key_is_refused(use_keys):
    use_keys("not-a-fernet-key")

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS must hold Fernet keys"):
        fields.encrypt("x")


def test_blank_entries_in_the_key_list_are_ignored(use_keys):
    use_keys(" ", f" {NEW_KEY} ")

    token = fields.encrypt("x")

    assert Fernet(NEW_KEY.encode()).decrypt(token.encode()) == b"x"


def test_without_keys_the_key_is_derived_from_the_secret_key(use_keys, settings):
    settings.SECRET_KEY = "first secret"
    use_keys()
    token = fields.encrypt("x")
    assert fields.decrypt(token) == "x"

    settings.SECRET_KEY = "another secret"
    use_keys()

    with pytest.raises(ImproperlyConfigured):
        fields.decrypt(token)


def test_the_keys_come_from_the_environment_variable():
    """The deployment's way: FIELD_ENCRYPTION_KEYS="new,old" in the environment."""
    script = (
        "import django; django.setup(); from comadvisor.fields import encrypt; print(encrypt('x'))"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "comadvisor.settings",
        "FIELD_ENCRYPTION_KEYS": f"{NEW_KEY},{OLD_KEY}",
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    token = result.stdout.strip().splitlines()[-1].encode()
    assert Fernet(NEW_KEY.encode()).decrypt(token) == b"x"
