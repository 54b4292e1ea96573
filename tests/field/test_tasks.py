"""The field kit's scheduled and follow-up tasks: the integration of pending envelopes every five
minutes, nightly rebuild and its setting, the agents holding a restaurant told of a colleague's
integrated change, retries of network faults, the drop folder's log retention and files of agents
unknown for now."""

import os
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from field import dropfolder, services, snapshots, tasks
from field.models import DropFile, Envelope, FieldSettings, Snapshot
from sales.models import Visit
from tests.field.conftest import envelope, visit_payload
from tests.field.test_drop_folder import _write


def _settings(**values) -> FieldSettings:
    field_settings = FieldSettings.load()
    for name, value in values.items():
        setattr(field_settings, name, value)
    field_settings.save()
    return field_settings


@pytest.mark.parametrize("nightly", [True, False])
def test_the_nightly_task_follows_the_rebuild_nightly_setting(agent, client_restaurant, nightly):
    _settings(rebuild_nightly=nightly)
    built = snapshots.snapshot_rebuild(agent=agent)
    Snapshot.objects.update(generated_at=built.generated_at - timedelta(hours=20))

    result = tasks.rebuild_snapshots.delay().get()

    after = Snapshot.objects.get(agent=agent)
    assert result == (1 if nightly else 0)
    assert (after.etag != built.etag) is nightly
    assert (timezone.now() - after.generated_at < timedelta(minutes=1)) is nightly


def test_a_colleagues_integrated_visit_marks_the_assigned_agents_snapshot_stale(
    agent, colleague, client_restaurant, django_capture_on_commit_callbacks
):
    _settings(rebuild_after_integration=False)
    snapshots.snapshot_rebuild(agent=agent)
    snapshots.snapshot_rebuild(agent=colleague)
    item = envelope(colleague, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(report="En passant"))  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        services.envelopes_receive(agent=colleague, items=[item])

    assert Visit.objects.get().agent == colleague
    assert dict(Snapshot.objects.values_list("agent_id", "stale")) == {
        agent.pk: True, colleague.pk: True
    }  # fmt: skip


def test_the_assigned_agents_snapshot_is_rebuilt_after_a_colleagues_visit(
    agent, colleague, client_restaurant, django_capture_on_commit_callbacks
):
    snapshots.snapshot_rebuild(agent=agent)
    item = envelope(colleague, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(report="En passant"))  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        services.envelopes_receive(agent=colleague, items=[item])

    snapshot = Snapshot.objects.get(agent=agent)
    assert not snapshot.stale
    reports = [visit["report"] for visit in snapshots.snapshot_document(snapshot)["visits"]]
    assert reports == ["En passant"]


def test_an_integration_retried_after_a_lost_database_connection(agent, client_restaurant,
                                                                 monkeypatch):  # fmt: skip
    from field import integration

    item = envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload())  # fmt: skip
    services.envelopes_receive(agent=agent, items=[item], schedule=False)
    real = integration.integrate
    calls = []

    def lost_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(integration, "integrate", lost_once)

    # As a worker runs it (an eager run that propagates errors stops at the first attempt).
    assert tasks.integrate_agent.apply(args=[agent.pk], throw=False).get() == 1

    assert len(calls) == 2
    assert Envelope.objects.get().state == "integrated"
    assert Visit.objects.count() == 1


def test_an_unreadable_drop_folder_is_tried_again(agent, client_restaurant, tmp_path,
                                                  monkeypatch):  # fmt: skip
    _settings(drop_folder=str(tmp_path))
    _write(tmp_path, "a.json", [envelope(agent, seq=1, action="visit", restaurant=client_restaurant,
                                         payload=visit_payload())])  # fmt: skip
    real = dropfolder.drop_folder_read
    calls = []

    def unmounted_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OSError(112, "Host is down")
        return real(**kwargs)

    monkeypatch.setattr(dropfolder, "drop_folder_read", unmounted_once)

    assert tasks.integrate_drop_folder.apply(throw=False).get() == 1

    assert len(calls) == 2
    assert Visit.objects.count() == 1


def test_a_file_of_an_agent_unknown_for_now_is_read_again_once_the_user_exists(
    make_user, lyon, client_restaurant, agent, tmp_path
):
    newcomer = make_user.build(username="nouveau")  # not saved: the admins have not created it
    item = envelope(newcomer, seq=1, action="visit", restaurant=client_restaurant,
                    payload=visit_payload(report="Premier jour"))  # fmt: skip
    _write(tmp_path, "nouveau/nouveau_dev0a1b2c_1-1.json", [item])

    first = dropfolder.drop_folder_integrate(folder=tmp_path)
    assert (first.files, first.refused, Envelope.objects.count()) == (1, 1, 0)
    still = dropfolder.drop_folder_integrate(folder=tmp_path)
    assert (still.files, still.refused) == (1, 1)  # read again, still unknown

    user = make_user(username="nouveau", roles=["sales_agent"])
    lyon.agents.add(user)
    client_restaurant.sales_agent = user
    client_restaurant.save()
    received = dropfolder.drop_folder_integrate(folder=tmp_path)
    again = dropfolder.drop_folder_integrate(folder=tmp_path)

    assert (received.files, received.received, received.decided) == (1, 1, 1)
    assert Visit.objects.get().report == "Premier jour"
    assert DropFile.objects.get().outcome == "received"
    assert again.files == 0  # remembered now, never read again


def test_the_log_purge_shortens_the_drop_folders_old_entries(agent, client_restaurant, tmp_path):
    _settings(drop_folder=str(tmp_path), log_retention_days=30)
    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=str(seq))) for seq in (1, 2)]  # fmt: skip
    bad = dict(items[1], hash="not hex")  # refused: a line in the log
    _write(tmp_path, "kept.json", [items[0], bad])
    _write(tmp_path, "gone.json", [items[0]])
    _write(tmp_path, "recent.json", [bad])
    dropfolder.drop_folder_read(folder=tmp_path)
    summary, line = DropFile.objects.get(path="kept.json").reason.split("\n")
    assert line.startswith(f"{bad['name']}: ")
    old = timezone.now() - timedelta(days=31)
    DropFile.objects.exclude(path="recent.json").update(read_at=old)
    os.remove(tmp_path / "gone.json")

    purged = tasks.purge_logs.delay().get()

    assert (purged["drop_files_forgotten"], purged["drop_files_shortened"]) == (1, 1)
    rows = dict(DropFile.objects.values_list("path", "reason"))
    assert set(rows) == {"kept.json", "recent.json"}
    assert "\n" not in rows["kept.json"]
    assert rows["kept.json"] == summary
    assert "\n" in rows["recent.json"]
    # Shortened, still remembered: the file is not read again.
    assert dropfolder.drop_folder_read(folder=tmp_path).files == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.json", "recent.json"]


# --- The nightly check of held devices ---------------------------------------------------------


def _waiting(agent, client_restaurant, *, seqs, hours_ago: float):
    from field import integration

    items = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report=f"n°{seq}")) for seq in seqs]  # fmt: skip
    services.envelopes_receive(agent=agent, items=items, schedule=False)
    integration.integrate(notify=False)
    Envelope.objects.filter(name__in=[item["name"] for item in items]).update(
        received_at=timezone.now() - timedelta(hours=hours_ago)
    )


def test_the_nightly_check_emails_the_admins_the_devices_held_too_long(
    agent, colleague, client_restaurant, admins_notified, mailoutbox, lyon
):
    from tests.factories import RestaurantFactory

    _settings(held_device_hours=24)
    _waiting(agent, client_restaurant, seqs=(3, 4), hours_ago=30)  # numbers 1 and 2 never came
    theirs = RestaurantFactory(client=True, zone=lyon, sales_agent=colleague)
    _waiting(colleague, theirs, seqs=(1,), hours_ago=5)  # recent: not yet

    assert tasks.check_held_devices.delay().get() == 1

    [message] = mailoutbox
    assert message.to == admins_notified
    assert message.subject == "Kit terrain : 1 appareil(s) en attente depuis plus de 24 h"
    assert "dev0a1b2c" in message.body
    assert agent.get_display_name() in message.body
    assert "2 envoi(s) en attente" in message.body
    assert "numéros manquants 1-2" in message.body
    assert "/admin/field/device/" in message.body


def test_envelopes_waiting_with_no_number_missing_are_reported_too(
    agent, client_restaurant, admins_notified, mailoutbox, monkeypatch
):
    from field import integration

    _settings(held_device_hours=6)
    # An integration that does not run (no worker): the first envelope waits, nothing missing.
    monkeypatch.setattr(integration, "integrate", lambda **kwargs: integration.RunReport())
    _waiting(agent, client_restaurant, seqs=(1,), hours_ago=7)

    assert tasks.check_held_devices.delay().get() == 1

    body = mailoutbox[0].body
    assert "- dev0a1b2c" in body
    assert ", numéros manquants" not in body


@pytest.mark.parametrize("hours", [None, 48])
def test_no_email_without_the_setting_or_below_its_hours(
    agent, client_restaurant, admins_notified, mailoutbox, hours
):
    _settings(held_device_hours=hours)
    _waiting(agent, client_restaurant, seqs=(2,), hours_ago=30)

    assert tasks.check_held_devices.delay().get() == 0

    assert mailoutbox == []


def test_the_check_is_tried_again_when_the_mail_server_fails(
    agent, client_restaurant, admins_notified, mailoutbox, monkeypatch
):
    from smtplib import SMTPServerDisconnected

    from django.core.mail import EmailMessage

    _settings(held_device_hours=1)
    _waiting(agent, client_restaurant, seqs=(2,), hours_ago=3)
    real, calls = EmailMessage.send, []

    def down_once(message, *args, **kwargs):
        calls.append(message.subject)
        if len(calls) == 1:
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return real(message, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", down_once)

    assert tasks.check_held_devices.apply(throw=False).get() == 1

    assert len(calls) == 2
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_beat_integrates_the_pending_envelopes_every_five_minutes():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from comadvisor.celery import app

    job = PeriodicTask.objects.get(task="field.tasks.integrate_pending")
    # What beat runs: the enabled periodic tasks of the database, each by its task's name.
    schedule = DatabaseScheduler(app=app, lazy=True).all_as_schedule()

    assert job.name == "Integrate pending field envelopes"
    assert job.enabled is True
    assert (job.interval.every, job.interval.period) == (5, "minutes")
    assert job.name in schedule
    assert schedule[job.name].task == "field.tasks.integrate_pending"
    assert schedule[job.name].schedule.run_every == timedelta(minutes=5)
    # The name beat sends is the task's registered with the workers.
    assert app.tasks[job.task] is tasks.integrate_pending._get_current_object()


def test_the_scheduled_run_integrates_the_envelopes_left_pending(
    agent, colleague, client_restaurant
):
    # Stored without the upload's integration (a worker lost, a task never run).
    mine = [envelope(agent, seq=seq, action="visit", restaurant=client_restaurant,
                     payload=visit_payload(report=f"visite {seq}")) for seq in (1, 2)]  # fmt: skip
    theirs = envelope(colleague, seq=1, action="visit", restaurant=client_restaurant,
                      payload=visit_payload(report="En passant"))  # fmt: skip
    services.envelopes_receive(agent=agent, items=mine, schedule=False)
    services.envelopes_receive(agent=colleague, items=[theirs], schedule=False)
    assert list(Envelope.objects.values_list("state", flat=True)) == ["pending"] * 3

    decided = tasks.integrate_pending()

    assert decided == 3
    assert list(Envelope.objects.values_list("state", flat=True)) == ["integrated"] * 3
    assert sorted(Visit.objects.values_list("agent__username", "report")) == sorted(
        [(agent.username, "visite 1"), (agent.username, "visite 2"),
         (colleague.username, "En passant")]
    )  # fmt: skip
    assert tasks.integrate_pending() == 0  # run again: nothing left, nothing applied twice
    assert Visit.objects.count() == 3
