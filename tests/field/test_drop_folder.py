import json
import os
import time

from django.core.management import call_command

from field import dropfolder
from field.models import DropFile, Envelope, FieldSettings
from sales.models import Visit
from tests.field.conftest import envelope, visit_payload


def _write(folder, name: str, items, *, age: float = 60) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"envelopes": items}), encoding="utf-8")
    then = time.time() - age
    os.utime(path, (then, then))


def test_the_command_reads_the_drop_folder_once_and_integrates(
    agent, client_restaurant, tmp_path, capsys
):
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"fichier {seq}")) for seq in (1, 2, 3)]  # fmt: skip
    _write(tmp_path, f"{agent.username}/{agent.username}_dev0a1b2c_1-2.json", items[:2])
    _write(tmp_path, f"{agent.username}/{agent.username}_dev0a1b2c_3-3.json", items[2:])
    # What sync tools and editors leave beside the real files: never read.
    _write(tmp_path, "x_dev0a1b2c_1-2 (conflicted copy 2026-11-12).json", [{"bad": 1}])
    _write(tmp_path, "x.sync-conflict-20261112-093015-ABCDEFG.json", [{"bad": 1}])
    _write(tmp_path, "x_dev0a1b2c_4-4.json.part", [{"bad": 1}])
    _write(tmp_path, ".x_dev0a1b2c_4-4.json", [{"bad": 1}])
    _write(tmp_path, "~x.json", [{"bad": 1}])
    _write(tmp_path, ".stfolder/x.json", [{"bad": 1}])
    _write(tmp_path, "notes.txt", [{"bad": 1}])
    _write(tmp_path, "fresh.json", [{"bad": 1}], age=0)  # still being written

    call_command("field_integrate", folder=str(tmp_path))

    out = capsys.readouterr().out
    assert "2 file(s) read: 3 envelope(s) received" in out
    assert "3 integrated, 0 quarantined, 0 pending" in out
    assert sorted(Visit.objects.values_list("report", flat=True)) == [
        "fichier 1", "fichier 2", "fichier 3"
    ]  # fmt: skip
    assert sorted(DropFile.objects.values_list("path", "outcome")) == [
        (f"{agent.username}/{agent.username}_dev0a1b2c_1-2.json", "received"),
        (f"{agent.username}/{agent.username}_dev0a1b2c_3-3.json", "received"),
    ]
    assert set(Envelope.objects.values_list("source", "source_file")) == {
        ("folder", f"{agent.username}/{agent.username}_dev0a1b2c_1-2.json"),
        ("folder", f"{agent.username}/{agent.username}_dev0a1b2c_3-3.json"),
    }

    call_command("field_integrate", folder=str(tmp_path))

    assert "0 file(s) read" in capsys.readouterr().out
    assert Visit.objects.count() == 3


def test_a_file_with_envelopes_already_uploaded_is_a_duplicate(agent, client_restaurant, tmp_path):
    from field import services

    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    services.envelopes_receive(agent=agent, items=[item], schedule=False)
    _write(tmp_path, "export.json", [item])

    report = dropfolder.drop_folder_integrate(folder=tmp_path)

    assert (report.files, report.received, report.duplicates) == (1, 0, 1)
    assert DropFile.objects.get().outcome == "duplicate"
    assert Visit.objects.count() == 1


def test_an_unreadable_file_or_unknown_agent_is_recorded_as_refused(agent, client_restaurant,
                                                                     tmp_path):  # fmt: skip
    (tmp_path / "broken.json").write_text("{not json")
    os.utime(tmp_path / "broken.json", (time.time() - 60, time.time() - 60))
    stranger = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                        payload=visit_payload())  # fmt: skip
    stranger["agent"] = "nobody"
    _write(tmp_path, "stranger.json", [stranger])

    report = dropfolder.drop_folder_read(folder=tmp_path)

    assert report.refused == 2
    assert dict(DropFile.objects.values_list("path", "outcome")) == {
        "broken.json": "refused", "stranger.json": "refused"
    }  # fmt: skip
    assert not Envelope.objects.exists()


def test_the_scheduled_job_reads_the_folder_of_the_settings(agent, client_restaurant, tmp_path,
                                                            admin_user):  # fmt: skip
    from django_celery_beat.models import PeriodicTask

    from field import services, tasks

    settings = FieldSettings.load()
    settings.drop_folder = str(tmp_path)
    settings.drop_folder_minutes = 10
    services.field_settings_save(field_settings=settings, by=admin_user)
    job = PeriodicTask.objects.get(task="field.tasks.integrate_drop_folder")
    assert (job.enabled, job.interval.every) == (True, 10)
    _write(tmp_path, "a.json", [envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                                         payload=visit_payload())])  # fmt: skip

    assert tasks.integrate_drop_folder() == 1
    assert Visit.objects.count() == 1
