import pytest

from sales.models import CalendarConnection, Pack, VisitFormNode

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sales/pack/",
        "/admin/sales/pack/add/",
        "/admin/sales/visitformnode/",
        "/admin/sales/salessettings/",
        "/admin/sales/contract/",
        "/admin/sales/invoice/",
        "/admin/sales/visit/",
        "/admin/sales/opportunity/",
        "/admin/sales/calendarconnection/",
        "/admin/sales/salestarget/",
        "/admin/sales/lostreason/",
    ],
)
def test_admin_pages_open(client, admin_user, url):
    client.force_login(admin_user)

    assert client.get(url).status_code == 200


def test_admin_edits_a_visit_question_in_both_languages(client, admin_user):
    node = VisitFormNode.objects.get(label_en="Delivery")
    client.force_login(admin_user)

    page = client.get(f"/admin/sales/visitformnode/{node.pk}/change/").content.decode()

    assert 'name="label_fr"' in page and 'name="label_en"' in page


def test_direction_cannot_change_packs(client, direction):
    pack = Pack.objects.create(code="p", name="P", monthly_price=10)
    client.force_login(direction)

    response = client.post(
        f"/admin/sales/pack/{pack.pk}/change/", {"name_fr": "X", "code": "p", "monthly_price": "1"}
    )

    assert response.status_code == 403


def test_calendar_credentials_never_show_in_admin(client, admin_user, sales_agent):
    connection = CalendarConnection.objects.create(
        user=sales_agent, credentials='{"refresh_token": "secret-value"}'
    )
    client.force_login(admin_user)

    page = client.get(f"/admin/sales/calendarconnection/{connection.pk}/change/").content.decode()

    assert "secret-value" not in page
