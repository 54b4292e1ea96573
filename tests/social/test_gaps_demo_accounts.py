"""Demo accounts hold no credentials (the database refuses such a row); connecting the real
account over a demo one makes it a real account."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from social import services
from social.enums import AccountState
from social.models import SocialAccount
from social.oauth import ConnectableAsset
from tests.social.conftest import make_account

CONSTRAINT = "social_account_demo_no_creds"


def test_the_database_refuses_a_demo_account_with_credentials(bistro):
    with pytest.raises(IntegrityError, match=CONSTRAINT), transaction.atomic():
        SocialAccount.objects.create(
            restaurant=bistro, network="facebook", external_id="1", name="x",
            demo=True, credentials='{"access_token": "t"}',
        )  # fmt: skip

    assert not SocialAccount.objects.exists()


def test_the_database_refuses_credentials_given_to_a_demo_account(facebook):
    with pytest.raises(IntegrityError, match=CONSTRAINT), transaction.atomic():
        SocialAccount.objects.filter(pk=facebook.pk).update(credentials='{"access_token": "t"}')

    facebook.refresh_from_db()
    assert (facebook.demo, facebook.credentials) == (True, "")


def test_validation_says_so_before_the_database_does(bistro):
    account = SocialAccount(
        restaurant=bistro, network="facebook", external_id="1", name="x",
        demo=True, credentials='{"access_token": "t"}',
    )  # fmt: skip

    with pytest.raises(ValidationError):
        account.full_clean()


def test_a_real_account_may_hold_credentials_and_a_demo_one_none(bistro):
    SocialAccount.objects.create(
        restaurant=bistro, network="facebook", external_id="1", name="real",
        demo=False, credentials='{"access_token": "t"}',
    )  # fmt: skip
    make_account(bistro, "google", demo=True)

    assert SocialAccount.objects.count() == 2


def test_connecting_the_real_account_over_a_demo_one_makes_it_real(bistro, community_manager):
    demo = make_account(bistro, "facebook", external_id="111", name="Le Bistro (démo)")
    asset = ConnectableAsset(
        network="facebook", external_id="111", name="Le Bistro", url="https://facebook.test/111",
        credentials='{"access_token": "page-token"}',
    )  # fmt: skip

    count = services.accounts_connect(
        restaurant=bistro, by=community_manager, assets=[services.asset_to_session(asset)]
    )

    account = SocialAccount.objects.get()
    assert count == 1 and account.pk == demo.pk
    assert (account.demo, account.state, account.name, account.credentials) == (
        False, AccountState.OK, "Le Bistro", '{"access_token": "page-token"}',
    )  # fmt: skip


def test_reconnecting_a_demo_account_makes_it_real(facebook, community_manager):
    services.account_reconnected(
        account=facebook, credentials='{"access_token": "t"}', by=community_manager
    )

    facebook.refresh_from_db()
    assert (facebook.demo, facebook.credentials) == (False, '{"access_token": "t"}')
