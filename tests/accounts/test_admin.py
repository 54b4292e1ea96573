import pytest
from django.contrib.auth.models import Group
from django.core import mail

from accounts.enums import RoleName
from accounts.models import User
from comadvisor.models import SiteSettings

pytestmark = pytest.mark.django_db


def _change_url(user):
    return f"/admin/accounts/user/{user.pk}/change/"


def test_direction_cannot_edit_or_delete_an_admin_in_admin(client, direction, admin_user):
    client.force_login(direction)

    page = client.get(_change_url(admin_user))
    post = client.post(_change_url(admin_user), {"username": "renamed"})

    assert page.status_code == 200  # view only
    assert 'name="username"' not in page.content.decode()
    assert post.status_code == 403
    assert (
        client.post(f"/admin/accounts/user/{admin_user.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get(f"/admin/accounts/user/{admin_user.pk}/password/").status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.username == "p_admin"


def test_direction_cannot_edit_settings_models(client, direction):
    SiteSettings.load()
    client.force_login(direction)

    response = client.post("/admin/comadvisor/sitesettings/1/change/", {"company_name": "Other"})

    assert response.status_code == 403
    assert SiteSettings.load().company_name == "ComAdvisor"


def test_admin_edits_settings_models(client, admin_user):
    SiteSettings.load()
    client.force_login(admin_user)

    response = client.post(
        "/admin/comadvisor/sitesettings/1/change/",
        {
            "company_name": "ComAdvisor Lyon",
            "support_email": "",
            "notification_emails": "a@example.com, b@example.com",
        },
    )

    assert response.status_code == 302
    assert SiteSettings.load().notification_addresses == ["a@example.com", "b@example.com"]


def test_settings_reject_a_bad_notification_address(client, admin_user):
    SiteSettings.load()
    client.force_login(admin_user)

    response = client.post(
        "/admin/comadvisor/sitesettings/1/change/",
        {"company_name": "X", "support_email": "", "notification_emails": "a@example.com, nope"},
    )

    assert response.status_code == 200
    assert SiteSettings.load().company_name == "ComAdvisor"


def test_direction_adds_a_user_with_invitation(client, direction):
    client.force_login(direction)

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newagent",
            "email": "new.agent@example.com",
            "first_name": "Nina",
            "last_name": "Blanc",
            "display_name": "",
            "phone": "",
            "language": "fr",
            "roles": ["sales_agent"],
            "send_invitation": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newagent")
    assert user.role_names == ["sales_agent"]
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.agent@example.com"]


def test_direction_is_not_offered_the_admin_role(client, direction, sales_agent):
    client.force_login(direction)

    add_page = client.get("/admin/accounts/user/add/").content.decode()
    change_page = client.get(_change_url(sales_agent)).content.decode()

    assert 'value="admin"' not in add_page
    admin_group = Group.objects.get(name=RoleName.ADMIN)
    assert (
        f'value="{admin_group.pk}"'
        not in change_page.split('name="groups"', 1)[1].split("</select>", 1)[0]
    )


def test_direction_posting_the_admin_role_is_refused(client, direction):
    client.force_login(direction)

    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "sneaky", "email": "s@example.com", "language": "fr", "roles": ["admin"]},
    )

    assert response.status_code == 200
    assert not User.objects.filter(username="sneaky").exists()


def test_admin_changes_roles_and_flags_follow(client, admin_user, sales_agent):
    client.force_login(admin_user)
    direction_group = Group.objects.get(name=RoleName.DIRECTION)

    response = client.post(
        _change_url(sales_agent),
        {
            "username": sales_agent.username,
            "first_name": "A",
            "last_name": "B",
            "display_name": "",
            "email": sales_agent.email,
            "phone": "",
            "language": "fr",
            "groups": [direction_group.pk],
            "is_active": "on",
            "user_permissions": [],
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    sales_agent.refresh_from_db()
    assert sales_agent.role_names == ["direction"]
    assert sales_agent.is_staff


def test_admin_invitation_action(client, admin_user, make_user):
    user = make_user(email="x@example.com")
    client.force_login(admin_user)

    response = client.post(
        "/admin/accounts/user/",
        {"action": "send_invitations", "_selected_action": [user.pk]},
    )

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["x@example.com"]]


def test_declared_roles_cannot_be_deleted(client, admin_user):
    client.force_login(admin_user)
    group = Group.objects.get(name=RoleName.ACCOUNTANT)

    assert client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=group.pk).exists()


def test_admin_creates_a_new_role(client, admin_user):
    client.force_login(admin_user)

    response = client.post("/admin/auth/group/add/", {"name": "ambassador", "permissions": []})

    assert response.status_code == 302
    assert Group.objects.filter(name="ambassador").exists()


def test_non_staff_roles_cannot_open_admin(client, sales_agent):
    client.force_login(sales_agent)

    response = client.get("/admin/")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
