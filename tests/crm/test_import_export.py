import csv
import io

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from crm import imports
from crm.models import Contact, ContactLink, Restaurant

pytestmark = pytest.mark.django_db

HEADER = "name;status;client_code;postal_code;city;phone;siret;segment;sales_agent;contact_last_name;contact_email;contact_role\n"


def _csv(*rows: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("restaurants.csv", (HEADER + "\n".join(rows) + "\n").encode())


def _upload(client, file):
    return client.post("/restaurants/import/", {"file": file})


def test_import_preview_reports_every_bad_row_and_writes_nothing(client, client_manager, segment):
    client.force_login(client_manager)

    response = _upload(
        client,
        _csv(
            "Le Bouchon;;;69002;Lyon;04 72 10 20 30;;brasserie;;Martin;m@example.com;owner",
            ";;;69002;Lyon;;;;;;;",
            "La Table;client;;69003;Lyon;0472102031;;;;;;",
            "Chez Jo;;;69004;Lyon;12;73282932000075;gastro;nobody;;;",
            "Le Double;;;69005;Lyon;04 72 10 20 30;;;;;;",
        ),
    )

    result = response.context["result"]
    errors = {row.line: row.errors for row in result.invalid}
    assert sorted(errors) == [3, 4, 5, 6]
    assert errors[3] == ["Le nom manque."]
    assert errors[4] == ["Un client doit avoir un code client."]
    assert len(errors[5]) == 4  # phone, SIRET, segment, agent
    assert errors[6] == ["Même SIRET ou téléphone que la ligne 2."]
    assert "Ligne 3" in response.content.decode()
    assert not Restaurant.objects.exists()

    confirm = client.post("/restaurants/import/", {"action": "confirm"})
    assert not Restaurant.objects.exists()
    assert confirm.status_code == 200


def test_import_creates_then_updates_without_doubling(client, client_manager, segment, sales_agent):
    client.force_login(client_manager)
    rows = (
        f"Le Bouchon;client;C00001;69002;Lyon;04 72 10 20 30;73282932000074;brasserie;{sales_agent.username};Martin;m@example.com;owner",
        "La Table;;;69003;Lyon;0472102031;;;;Martin;m@example.com;owner",
    )

    _upload(client, _csv(*rows))
    done = client.post("/restaurants/import/", {"action": "confirm"})

    assert done.status_code == 302
    bouchon = Restaurant.objects.get(name="Le Bouchon")
    assert (bouchon.status, bouchon.client_code, bouchon.phone, bouchon.segment, bouchon.sales_agent) == (
        "client", "C00001", "+33472102030", segment, sales_agent,
    )  # fmt: skip
    assert Contact.objects.count() == 1
    assert ContactLink.objects.filter(role="owner").count() == 2

    again = _upload(client, _csv(rows[0].replace("Le Bouchon", "Le Bouchon Lyonnais"), rows[1]))
    assert (again.context["result"].creates, again.context["result"].updates) == (0, 2)
    client.post("/restaurants/import/", {"action": "confirm"})
    assert Restaurant.objects.count() == 2
    assert Restaurant.objects.filter(name="Le Bouchon Lyonnais").exists()


def test_import_reads_excel(client, client_manager):
    dataset = tablib.Dataset(headers=["name", "postal_code", "city"])
    dataset.append(["Chez Excel", "75011", "Paris"])
    client.force_login(client_manager)

    response = _upload(client, SimpleUploadedFile("r.xlsx", dataset.export("xlsx")))
    client.post("/restaurants/import/", {"action": "confirm"})

    assert response.context["result"].creates == 1
    assert Restaurant.objects.get().department == "75"


def test_import_refuses_unknown_columns_and_formats(client, client_manager):
    client.force_login(client_manager)

    unknown = _upload(client, SimpleUploadedFile("r.csv", b"name,colour\nA,red\n"))
    wrong = _upload(client, SimpleUploadedFile("r.txt", b"name\nA\n"))

    assert "Colonnes inconnues : colour" in unknown.content.decode()
    assert "Envoyez un fichier .csv ou .xlsx." in wrong.content.decode()


def test_export_is_the_filtered_list_in_import_columns(client, direction, restaurant_factory):
    restaurant_factory(name="Café de la Gare", phone="+33472102030")
    restaurant_factory(name="Brasserie", client=True, client_code="C00009")
    client.force_login(direction)

    response = client.get("/restaurants/export/", {"q": "cafe*", "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(imports.RESTAURANT_COLUMNS)
    assert [row[1] for row in rows[1:]] == ["Café de la Gare"]
    assert response["Content-Disposition"].startswith('attachment; filename="restaurants-')


def test_export_excel_opens(client, direction, restaurant_factory):
    restaurant_factory(name="A")
    client.force_login(direction)

    response = client.get("/restaurants/export/", {"format": "xlsx"})

    dataset = tablib.Dataset().load(response.content, format="xlsx")
    assert dataset["name"] == ["A"]


def test_agent_export_holds_only_their_scope(client, sales_agent, restaurant_factory):
    restaurant_factory(name="Mine", created_by=sales_agent)
    restaurant_factory(name="Not mine")
    client.force_login(sales_agent)

    response = client.get("/restaurants/export/")

    assert "Mine" in response.content.decode() and "Not mine" not in response.content.decode()
