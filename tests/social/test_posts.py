import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from PIL import Image

from comadvisor.connectors import Permanent, RetryLater
from social import services
from social.enums import PostStatus, PublicationState
from social.models import Post, Publication
from social.posting import limit_rules
from social.providers import Provider, Published
from social.selectors import late_publications, posts_quota

PARIS = "Europe/Paris"


def jpeg(name="photo.jpg", size=(1080, 1080)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


class Recorder(Provider):
    """Counts publish calls and follows a script of outcomes; what it leaves in `state` is what
    a real provider would checkpoint (a sent request, a container)."""

    can_publish = True

    def __init__(self, account, script=()):
        super().__init__(account)
        self.script = list(script)
        self.calls = []

    def publish(self, content, *, state, checkpoint):
        self.calls.append(dict(state))
        if state.get("sent"):
            # A retry: the platform already has the post; find it instead of posting again.
            return Published(external_id=state["sent"], url="https://example.test/p")
        outcome = self.script.pop(0) if self.script else "ok"
        state["sent"] = f"post-{len(self.calls)}"
        checkpoint(state)
        if isinstance(outcome, Exception):
            raise outcome
        return Published(external_id=state["sent"], url="https://example.test/p")


def use(monkeypatch, provider):
    monkeypatch.setattr(services, "provider_for", lambda account: provider)
    return provider


def scheduled_post(by, restaurant, accounts, at=None, text="Soirée jazz ce soir !"):
    post = services.post_save(by=by, restaurant=restaurant, accounts=accounts, text=text)
    at = at or timezone.now() - dt.timedelta(seconds=5)
    return services.post_schedule(post=post, by=by, at=at, now=at)


# --- Time zones ----------------------------------------------------------------------------------


def test_summer_and_winter_times_of_the_restaurant():
    summer = services.local_moment(day=dt.date(2026, 7, 1), time=dt.time(18), tz_name=PARIS)
    winter = services.local_moment(day=dt.date(2026, 12, 1), time=dt.time(18), tz_name=PARIS)

    assert summer.astimezone(dt.UTC).hour == 16
    assert winter.astimezone(dt.UTC).hour == 17


def test_a_time_skipped_by_the_spring_change_is_refused():
    with pytest.raises(ValidationError) as error:
        services.local_moment(day=dt.date(2027, 3, 28), time=dt.time(2, 30), tz_name=PARIS)

    assert "n'existe pas le 2027-03-28" in str(error.value)


def test_a_time_repeated_in_autumn_is_its_first_occurrence():
    moment = services.local_moment(day=dt.date(2026, 10, 25), time=dt.time(2, 30), tz_name=PARIS)

    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def test_a_post_scheduled_across_the_clock_change_keeps_its_wall_time(
    bistro, facebook, community_manager
):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="x"
    )
    at = services.local_moment(day=dt.date(2026, 10, 26), time=dt.time(11), tz_name=PARIS)

    services.post_schedule(post=post, by=community_manager, at=at, now=at - dt.timedelta(days=3))

    publication = Publication.objects.get()
    assert publication.due_at == dt.datetime(2026, 10, 26, 10, 0, tzinfo=dt.UTC)
    assert publication.due_at.astimezone(ZoneInfo(PARIS)).hour == 11


# --- Publishing once -----------------------------------------------------------------------------


def test_due_publications_are_published_once(bistro, facebook, google, community_manager):
    scheduled_post(community_manager, bistro, [facebook, google])

    call_command("publish_due_posts")
    call_command("publish_due_posts")

    states = set(Publication.objects.values_list("state", "attempts"))
    assert states == {(PublicationState.PUBLISHED, 1)}
    assert Post.objects.get().status == PostStatus.DONE


def test_two_workers_on_the_same_publication_publish_once(
    bistro, facebook, community_manager, monkeypatch
):
    scheduled_post(community_manager, bistro, [facebook])
    publication = Publication.objects.get()
    seen = []

    class Concurrent(Recorder):
        def publish(self, content, *, state, checkpoint):
            # The second worker starts while the first is talking to the platform.
            seen.append(services.publication_publish(publication_id=publication.pk))
            return super().publish(content, state=state, checkpoint=checkpoint)

    provider = use(monkeypatch, Concurrent(facebook))

    first = services.publication_publish(publication_id=publication.pk)

    assert (first, seen) == (PublicationState.PUBLISHED, ["skipped"])
    assert len(provider.calls) == 1


def test_a_timeout_then_a_retry_does_not_publish_twice(
    bistro, facebook, community_manager, monkeypatch
):
    scheduled_post(community_manager, bistro, [facebook])
    publication = Publication.objects.get()
    provider = use(monkeypatch, Recorder(facebook, [RetryLater("read timeout")]))

    assert services.publication_publish(publication_id=publication.pk) == "scheduled"
    publication.refresh_from_db()
    assert publication.provider_state == {"sent": "post-1"}
    assert publication.next_attempt_at > timezone.now()
    Publication.objects.filter(pk=publication.pk).update(next_attempt_at=timezone.now())

    assert services.publication_publish(publication_id=publication.pk) == "published"

    publication.refresh_from_db()
    assert provider.calls == [{}, {"sent": "post-1"}]
    assert (publication.external_id, publication.attempts) == ("post-1", 2)


def test_an_interrupted_publication_is_released_and_finished_once(
    bistro, facebook, community_manager, monkeypatch
):
    scheduled_post(community_manager, bistro, [facebook])
    # A worker claimed it, sent the request and died before recording the answer.
    Publication.objects.update(
        state=PublicationState.PUBLISHING,
        claimed_at=timezone.now() - dt.timedelta(minutes=20),
        provider_state={"sent": "post-9"},
        attempts=1,
    )
    provider = use(monkeypatch, Recorder(facebook))

    call_command("publish_due_posts")

    publication = Publication.objects.get()
    assert (publication.state, publication.external_id) == (PublicationState.PUBLISHED, "post-9")
    assert provider.calls == [{"sent": "post-9"}]


def test_a_permanent_failure_stays_visible_and_can_be_retried(
    bistro, facebook, community_manager, monkeypatch
):
    scheduled_post(community_manager, bistro, [facebook])
    publication = Publication.objects.get()
    use(monkeypatch, Recorder(facebook, [Permanent("(#200) permission missing")]))
    services.publication_publish(publication_id=publication.pk)
    publication.refresh_from_db()
    assert (publication.state, publication.last_error) == (
        PublicationState.FAILED, "(#200) permission missing",
    )  # fmt: skip

    services.publication_retry(publication=publication, by=community_manager)
    services.publication_publish(publication_id=publication.pk)

    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED


def test_retries_stop_after_the_last_attempt(bistro, facebook, community_manager, monkeypatch):
    scheduled_post(community_manager, bistro, [facebook])
    publication = Publication.objects.get()

    class Down(Provider):
        def publish(self, content, *, state, checkpoint):
            raise RetryLater("503")

    use(monkeypatch, Down(facebook))
    for _attempt in range(services.MAX_ATTEMPTS):
        Publication.objects.filter(pk=publication.pk).update(next_attempt_at=None)
        services.publication_publish(publication_id=publication.pk)

    publication.refresh_from_db()
    assert (publication.state, publication.attempts) == (PublicationState.FAILED, 5)


def test_late_publications_show_on_health(bistro, facebook, community_manager, client):
    scheduled_post(
        community_manager, bistro, [facebook], at=timezone.now() - dt.timedelta(minutes=30)
    )

    response = client.get("/health/", HTTP_ACCEPT_LANGUAGE="en")

    assert late_publications().count() == 1
    assert response.status_code == 503
    assert response.json()["checks"]["publications"] == {
        "ok": False,
        "detail": "1 late publication",
    }


def test_late_publications_show_on_the_community_managers_dashboard(
    bistro, facebook, community_manager, client
):
    scheduled_post(
        community_manager, bistro, [facebook], at=timezone.now() - dt.timedelta(minutes=30)
    )
    client.force_login(community_manager)

    response = client.get("/")

    assert b'data-testid="cm-late"' in response.content


# --- Rules of the networks and of the contract ---------------------------------------------------


def test_instagram_needs_an_image(bistro, instagram, community_manager):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[instagram], text="Hi"
    )

    with pytest.raises(ValidationError) as error:
        services.post_schedule(post=post, by=community_manager, at=timezone.now())

    assert error.value.messages == ["Le Bistro: Instagram exige au moins une image."]


def test_images_are_checked_and_kept(bistro, instagram, community_manager):
    post = services.post_save(
        by=community_manager,
        restaurant=bistro,
        accounts=[instagram],
        text="Hi",
        new_images=[jpeg()],
    )

    services.post_schedule(post=post, by=community_manager, at=timezone.now())

    image = post.images.get()
    assert (image.width, image.height) == (1080, 1080)


def test_a_file_that_is_not_an_image_is_refused(bistro, facebook, community_manager):
    bogus = SimpleUploadedFile("menu.jpg", b"not an image", content_type="image/jpeg")

    with pytest.raises(ValidationError):
        services.post_save(
            by=community_manager,
            restaurant=bistro,
            accounts=[facebook],
            text="x",
            new_images=[bogus],
        )

    assert Post.objects.count() == 0


def test_posts_quota_counts_the_month_in_the_restaurants_time_zone(
    bistro, facebook, community_manager
):
    month = dt.date(2026, 12, 1)
    # 31 December 23:30 in Paris is still December although it is 22:30 UTC... and 1 January
    # 00:30 in Paris (23:30 UTC on the 31st) is already January.
    for day, time in (
        (dt.date(2026, 12, 31), dt.time(23, 30)),
        (dt.date(2027, 1, 1), dt.time(0, 30)),
    ):
        post = services.post_save(
            by=community_manager, restaurant=bistro, accounts=[facebook], text="x"
        )
        at = services.local_moment(day=day, time=time, tz_name=PARIS)
        services.post_schedule(
            post=post, by=community_manager, at=at, now=at - dt.timedelta(days=1)
        )

    quota = posts_quota(restaurant=bistro, month=month)

    assert (quota.allowed, quota.used, quota.remaining) == (3, 1, 2)


def test_compose_page_warns_before_going_over_the_posts_per_month(
    bistro, facebook, community_manager, client
):
    for _number in range(3):
        scheduled_post(
            community_manager, bistro, [facebook], at=timezone.now() + dt.timedelta(hours=1)
        )
    client.force_login(community_manager)

    response = client.get(reverse("social:post_create", args=[bistro.pk]))

    assert "3 publications prévues ou diffusées ce mois-ci pour 3" in response.content.decode()
    assert "dépasse le nombre de publications mensuelles" in response.content.decode()


def _next_month_day(day: int = 10) -> dt.date:
    return (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=day)


def _fill_next_month(community_manager, bistro, facebook, count=3) -> None:
    for number in range(count):
        at = services.local_moment(day=_next_month_day(2 + number), time=dt.time(12), tz_name=PARIS)
        scheduled_post(community_manager, bistro, [facebook], at=at)


def test_the_preview_counts_the_posts_of_the_chosen_days_month(
    bistro, facebook, community_manager, client
):
    _fill_next_month(community_manager, bistro, facebook)
    client.force_login(community_manager)
    url = reverse("social:post_preview", args=[bistro.pk])

    later = client.post(url, {"accounts": [facebook.pk], "text": "x", "day": _next_month_day()})
    now = client.post(url, {"accounts": [facebook.pk], "text": "x", "day": timezone.localdate()})

    later, now = later.content.decode(), now.content.decode()
    month = _next_month_day().strftime("%Y-%m")
    assert f'data-testid="preview-quota" data-month="{month}"' in later
    assert "dépasse le nombre de publications mensuelles" in later
    assert f'data-month="{timezone.localdate():%Y-%m}"' in now
    assert "0 publications prévues ou diffusées ce mois-ci pour 3" in now


def test_scheduling_over_the_posts_per_month_asks_first(
    bistro, facebook, community_manager, client
):
    _fill_next_month(community_manager, bistro, facebook)
    client.force_login(community_manager)
    form = {
        "accounts": [facebook.pk], "text": "Un de plus", "day": _next_month_day().isoformat(),
        "time": "11:00", "action": "schedule",
    }  # fmt: skip

    warned = client.post(reverse("social:post_create", args=[bistro.pk]), form)

    assert warned.status_code == 200
    assert 'data-testid="over-quota"' in warned.content.decode()
    assert "Un de plus" in warned.content.decode()
    assert Post.objects.filter(text="Un de plus").count() == 0

    confirmed = client.post(
        reverse("social:post_create", args=[bistro.pk]), form | {"over_quota": "on"}
    )

    assert confirmed.status_code == 302
    post = Post.objects.get(text="Un de plus")
    assert post.status == PostStatus.SCHEDULED


def test_scheduling_within_the_posts_per_month_asks_nothing(
    bistro, facebook, community_manager, client
):
    _fill_next_month(community_manager, bistro, facebook, count=2)
    client.force_login(community_manager)

    response = client.post(
        reverse("social:post_create", args=[bistro.pk]),
        {"accounts": [facebook.pk], "text": "Le troisième", "day": _next_month_day().isoformat(),
         "time": "11:00", "action": "schedule"},
    )  # fmt: skip

    assert response.status_code == 302
    assert Post.objects.get(text="Le troisième").status == PostStatus.SCHEDULED


def test_compose_and_schedule_through_the_page(bistro, facebook, google, community_manager, client):
    client.force_login(community_manager)
    day = timezone.localdate() + dt.timedelta(days=3)

    response = client.post(
        reverse("social:post_create", args=[bistro.pk]),
        {
            "accounts": [facebook.pk, google.pk], "text": "Brunch dimanche", "link": "https://bistro.test",
            "day": day.isoformat(), "time": "11:00", "action": "schedule", "images": [jpeg()],
        },
    )  # fmt: skip

    post = Post.objects.get()
    assert response.status_code == 302
    assert post.status == PostStatus.SCHEDULED
    assert timezone.localtime(post.scheduled_at, ZoneInfo(PARIS)).hour == 11
    assert set(post.publications.values_list("account_id", "state")) == {
        (facebook.pk, PublicationState.SCHEDULED), (google.pk, PublicationState.SCHEDULED),
    }  # fmt: skip


def test_a_refused_schedule_keeps_the_text(bistro, instagram, community_manager, client):
    client.force_login(community_manager)
    day = timezone.localdate() + dt.timedelta(days=3)

    response = client.post(
        reverse("social:post_create", args=[bistro.pk]),
        {"accounts": [instagram.pk], "text": "Texte gardé", "day": day.isoformat(), "time": "11:00",
         "action": "schedule"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "Instagram exige au moins une image" in response.content.decode()
    assert "Texte gardé" in response.content.decode()


def test_preview_shows_each_networks_limits(bistro, facebook, instagram, community_manager, client):
    client.force_login(community_manager)

    response = client.post(
        reverse("social:post_preview", args=[bistro.pk]),
        {"accounts": [facebook.pk, instagram.pk], "text": "#a " * 31},
    )

    content = response.content.decode()
    assert "Instagram accepte au plus 30 hashtags." in content
    assert "Instagram exige au moins une image." in content
    assert content.count('data-testid="preview-error"') == 2


def _limits_shown(content: str) -> dict[str, dict[str, str]]:
    """{network: {rule: sentence}} of the preview's "what it accepts" lists."""
    shown = {}
    for network, items in re.findall(
        r'data-testid="limits" data-network="(\w+)">(.*?)</ul>', content, re.S
    ):
        shown[network] = dict(re.findall(r'<li data-limit="(\w+)">(.*?)</li>', items, re.S))
    return shown


def test_preview_lists_what_each_chosen_network_accepts_before_anything_is_broken(
    bistro, facebook, instagram, google, community_manager, client
):
    client.force_login(community_manager)

    response = client.post(
        reverse("social:post_preview", args=[bistro.pk]),
        {"accounts": [facebook.pk, instagram.pk, google.pk], "text": "Bonjour"},
    )

    shown = _limits_shown(response.content.decode())
    assert set(shown) == {"facebook", "instagram", "google"}
    with translation.override(community_manager.language or "fr"):
        for network in ("facebook", "instagram", "google"):
            assert shown[network] == {
                rule: escape(sentence) for rule, sentence in limit_rules(network)
            }
    instagram_rules = shown["instagram"]
    assert set(instagram_rules) == {
        "text", "images", "formats", "size", "min_side", "ratio", "hashtags", "links",
    }  # fmt: skip
    assert "2200" in instagram_rules["text"] and "JPEG" in instagram_rules["formats"]
    assert "PNG" not in instagram_rules["formats"]
    assert "8" in instagram_rules["size"] and "320" in instagram_rules["min_side"]
    assert "4:5" in instagram_rules["ratio"] and "1.91:1" in instagram_rules["ratio"]
    assert "30" in instagram_rules["hashtags"]
    google_rules = shown["google"]
    assert set(google_rules) == {"text", "images", "formats", "size", "min_side"}
    assert "1500" in google_rules["text"] and "5" in google_rules["size"]
    assert "250" in google_rules["min_side"]
    assert "10" in shown["facebook"]["size"] and "GIF" in shown["facebook"]["formats"]


def test_limit_rules_follow_the_limits_checked(monkeypatch):
    from social import posting

    monkeypatch.setitem(
        posting.LIMITS,
        "google",
        posting.Limits(label="Google", max_text=99, max_images=3, max_image_bytes=2 * 1024 * 1024,
                       ratio=(0.75, 2.0), max_hashtags=4),
    )  # fmt: skip

    with translation.override("en"):
        rules = dict(limit_rules("google"))

    assert rules == {
        "text": "Up to 99 characters of text.",
        "images": "Up to 3 images.",
        "formats": "Formats: JPEG, PNG.",
        "size": "Up to 2 MB an image.",
        "ratio": "Shape between 3:4 and 2:1 (width:height).",
        "hashtags": "Up to 4 hashtags.",
    }


def test_publish_now_publishes_after_commit(
    bistro, facebook, community_manager, client, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(community_manager)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("social:post_create", args=[bistro.pk]),
            {"accounts": [facebook.pk], "text": "Tout de suite", "action": "now"},
        )

    assert Publication.objects.get().state == PublicationState.PUBLISHED


def test_post_image_needs_its_signature(bistro, facebook, community_manager, client):
    post = services.post_save(
        by=community_manager, restaurant=bistro, accounts=[facebook], text="x", new_images=[jpeg()]
    )
    image = post.images.get()

    good = client.get(services.public_image_path(image))
    bad = client.get(reverse("social:post_image", args=[image.pk, "forged"]))

    assert (good.status_code, bad.status_code) == (200, 404)
