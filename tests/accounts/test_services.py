import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.enums import RoleName
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_user_create_with_admin_role_makes_a_superuser(admin_user):
    user = services.user_create(
        by=admin_user, username="zoe", email="zoe@example.com", roles=[RoleName.ADMIN]
    )

    assert user.is_superuser and user.is_staff
    assert user.role_names == ["admin"]
    assert not user.has_usable_password()


def test_user_set_roles_removing_admin_role_drops_superuser(admin_user, make_user):
    user = make_user(roles=[RoleName.ADMIN])

    services.user_set_roles(user=user, roles=[RoleName.ACCOUNTANT], by=admin_user)

    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff) == (False, False)


def test_direction_may_create_non_admin_users(direction):
    user = services.user_create(
        by=direction, username="new", email="new@example.com", roles=[RoleName.SALES_AGENT]
    )

    assert user.role_names == ["sales_agent"]


def test_direction_may_not_create_an_admin(direction):
    with pytest.raises(PermissionDenied):
        services.user_create(by=direction, username="boss", roles=[RoleName.ADMIN])
    assert not User.objects.filter(username="boss").exists()


def test_direction_may_not_edit_or_set_password_of_an_admin(direction, admin_user):
    admin_user.display_name = "Hacked"
    with pytest.raises(PermissionDenied):
        services.user_update(user=admin_user, by=direction)
    with pytest.raises(PermissionDenied):
        services.user_set_password(user=admin_user, password="x" * 20, by=direction)
    admin_user.refresh_from_db()
    assert admin_user.display_name == ""


def test_direction_may_not_promote_a_user_to_admin(direction, sales_agent):
    with pytest.raises(PermissionDenied):
        services.user_set_roles(user=sales_agent, roles=[RoleName.ADMIN], by=direction)
    assert sales_agent.role_names == ["sales_agent"]


def test_other_roles_may_not_manage_users(client_manager, sales_agent):
    with pytest.raises(PermissionDenied):
        services.user_create(by=client_manager, username="x", roles=[])
    with pytest.raises(PermissionDenied):
        services.user_set_password(user=sales_agent, password="x" * 20, by=client_manager)


def test_user_set_roles_rejects_unknown_role(admin_user, sales_agent):
    with pytest.raises(ValidationError):
        services.user_set_roles(user=sales_agent, roles=["astronaut"], by=admin_user)


def test_email_unique_ignoring_case(admin_user, make_user):
    make_user(username="a", email="Same@Example.com")
    with pytest.raises(ValidationError):
        services.user_create(by=admin_user, username="b", email="same@example.com")


def test_user_invite_sends_one_time_link_in_users_language(admin_user, make_user, client):
    user = make_user(
        username="lea", email="lea@example.com", first_name="Léa", last_name="Roy", language="en"
    )

    services.user_invite(user=user, by=admin_user)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lea@example.com"]
    assert message.subject == "Your ComAdvisor CRM account"
    assert "Hello Léa Roy," in message.body
    assert "Your username: lea" in message.body
    url = next(line for line in message.body.splitlines() if "/accounts/invitation/" in line)
    user.refresh_from_db()
    assert user.invited_at is not None
    path = url.removeprefix("http://127.0.0.1:8000")

    first = client.get(path)
    assert first.status_code == 302
    form = client.get(first["Location"])
    assert form.status_code == 200
    done = client.post(
        first["Location"], {"password1": "Brand new pass 2026", "password2": "Brand new pass 2026"}
    )

    assert done.status_code == 302 and done["Location"] == "/"
    user.refresh_from_db()
    assert user.check_password("Brand new pass 2026")
    client.logout()
    assert client.get(path).status_code == 410


def test_user_invite_in_french_by_default(admin_user, make_user):
    user = make_user(username="paul", email="paul@example.com", first_name="Paul", last_name="Roux")

    services.user_invite(user=user, by=admin_user)

    assert mail.outbox[0].subject == "Votre compte CRM ComAdvisor"
    assert "Bonjour Paul Roux," in mail.outbox[0].body


def test_user_invite_needs_an_email(admin_user, make_user):
    user = make_user(email="")
    with pytest.raises(ValidationError):
        services.user_invite(user=user, by=admin_user)
    assert mail.outbox == []


def test_invitation_rejects_mismatched_passwords(admin_user, make_user, client):
    user = make_user(email="m@example.com")
    path = services.invitation_url(user=user).removeprefix("http://127.0.0.1:8000")
    target = client.get(path)["Location"]

    response = client.post(
        target, {"password1": "Brand new pass 2026", "password2": "other pass 2026"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    user.refresh_from_db()
    assert not user.check_password("Brand new pass 2026")


def test_invitation_with_forged_token_is_gone(make_user, client):
    user = make_user()
    path = services.invitation_url(user=user).removeprefix("http://127.0.0.1:8000")
    forged = path.rsplit("/", 2)[0] + "/abc-123/"

    assert client.get(forged).status_code == 410
