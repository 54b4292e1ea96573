"""The access matrix: every URL of the project (admin aside), each role and anonymous.

A row gives the URL name, how to build its arguments, the method, and the expected status for
anonymous visitors and for each role (ALL_ROLES as a shortcut). A URL pattern missing here makes
tests/access/test_matrix.py fail, so every new page must join the matrix.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from accounts.enums import RoleName

ANONYMOUS = "anonymous"
ROLES = [str(role) for role in RoleName]


def every(status: int, anonymous: int) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, status), ANONYMOUS: anonymous}


@dataclass(frozen=True)
class Row:
    name: str
    expected: dict[str, int]
    method: str = "get"
    kwargs: Callable[[], dict] = field(default=lambda: {})
    data: dict = field(default_factory=dict)
    setup: Callable[[], None] | None = None


def roles(default: int, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    """`default` for every role, with per-role exceptions: roles(403, admin=200)."""
    return {**dict.fromkeys(ROLES, default), **overrides, ANONYMOUS: anonymous}


# One record of each kind, built once per test by the rows that need it.
_WORLD: dict = {}


def world() -> dict:
    """A client in the sales agent's zone, assigned to the community and review managers, with a
    pending change request and a pending conversion request on a prospect of the sales agent."""
    from django.core.files.base import ContentFile

    from accounts.models import User
    from crm.models import ChangeRequest, Contact, ContactLink, ConversionRequest, Restaurant, Zone

    if _WORLD.get("client") and Restaurant.objects.filter(pk=_WORLD["client"].pk).exists():
        return _WORLD
    users = {
        u.username.removeprefix("p_"): u for u in User.objects.filter(username__startswith="p_")
    }
    zone = Zone.objects.create(name="Matrix zone", departments="69")
    zone.agents.add(users["sales_agent"])
    client = Restaurant.objects.create(
        name="Matrix client", status="client", client_code="M0001", zone=zone, postal_code="69001",
        community_manager=users["community_manager"], review_manager=users["review_manager"],
    )  # fmt: skip
    prospect = Restaurant.objects.create(
        name="Matrix prospect",
        zone=zone,
        created_by=users["sales_agent"],
        sales_agent=users["sales_agent"],
    )
    contact = Contact.objects.create(last_name="Matrix", first_name="Owner")
    ContactLink.objects.create(restaurant=client, contact=contact, role="owner")
    change = ChangeRequest.objects.create(
        restaurant=client, requested_by=users["sales_agent"],
        changes=[{"field": "city", "label": "City", "old": "", "new": "Lyon", "old_display": "", "new_display": "Lyon"}],
    )  # fmt: skip
    conversion = ConversionRequest(
        restaurant=prospect,
        requested_by=users["sales_agent"],
        payment_mode="transfer",
        payment_days=30,
    )
    conversion.signature.save("s.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    conversion.save()
    from datetime import date

    from sales.models import Contract, ContractTerm, Pack

    pack = Pack.objects.create(code="matrix", name="Matrix", monthly_price=100, posts_per_month=4)
    contract = Contract.objects.create(
        restaurant=client, start_date=date(2026, 1, 1), duration_months=13, end_date=date(2027, 1, 31),
        signed_by=users["client_manager"],
    )  # fmt: skip
    ContractTerm.objects.create(
        contract=contract, starts_on=date(2026, 1, 1), pack=pack, monthly_price=100, posts_per_month=4,
        changed_by=users["client_manager"],
    )  # fmt: skip
    from sales.models import CalendarFeed, Visit

    visit = Visit.objects.create(
        restaurant=client,
        agent=users["sales_agent"],
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=1),
    )
    feed = CalendarFeed.objects.create(user=users["sales_agent"], token="matrix-feed-token")
    from sales.models import Opportunity

    opportunity = Opportunity.objects.create(
        restaurant=client, owner=users["sales_agent"], monthly_amount=100
    )
    from django.core import signing

    from social.models import Post, PostImage, Publication, Review, ReviewTask, SocialAccount

    account = SocialAccount.objects.create(
        restaurant=client,
        network="facebook",
        external_id="matrix-page",
        name="Matrix page",
        demo=True,
    )
    post = Post.objects.create(
        restaurant=client, text="Matrix post", created_by=users["community_manager"]
    )
    image = PostImage(post=post, width=800, height=800)
    image.image.save("m.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    image.save()
    publication = Publication.objects.create(
        post=post, account=account, state="failed", last_error="x"
    )
    review = Review.objects.create(
        account=account,
        restaurant=client,
        network="facebook",
        external_id="matrix-review",
        author="A",
        rating=2,
        text="Bof",
        written_at=timezone.now(),
        updated_at=timezone.now(),
    )
    ReviewTask.objects.create(
        review=review, assignee=users["review_manager"], due_at=timezone.now()
    )
    from reports.models import MonthlyReport, ReportBatch

    monthly = MonthlyReport.objects.create(
        restaurant=client, month=date(2026, 10, 1), deadline=date(2026, 11, 10)
    )
    monthly.pdf.save("matrix.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    batch = ReportBatch.objects.create(user=users["community_manager"], total=1)
    _WORLD.update(
        monthly_report=monthly,
        report_batch=batch,
        account=account,
        post=post,
        image=image,
        image_token=signing.dumps(image.pk, salt="post-image"),
        publication=publication,
        review=review,
        client=client,
        prospect=prospect,
        contact=contact,
        change=change,
        conversion=conversion,
        contract=contract,
        visit=visit,
        feed=feed,
        opportunity=opportunity,
    )
    return _WORLD


def _client() -> dict:
    return {"pk": world()["client"].pk}


def _prospect() -> dict:
    return {"pk": world()["prospect"].pk}


def _heartbeat() -> None:
    from comadvisor.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        hostname="matrix", defaults={"seen_at": timezone.now()}
    )


MATRIX: list[Row] = [
    Row("dashboard", every(200, anonymous=302)),
    Row("accounts:login", every(302, anonymous=200)),
    Row("accounts:logout", every(302, anonymous=302), method="post"),
    Row(
        "accounts:invitation",
        every(410, anonymous=410),
        kwargs=lambda: {"uidb64": "MQ", "token": "bad-token"},
    ),
    Row("set_language", every(302, anonymous=302), method="post", data={"language": "en"}),
    Row("health", every(200, anonymous=200), setup=_heartbeat),
    # --- CRM ---
    Row("crm:restaurant_list", every(200, anonymous=302)),
    Row(
        "crm:restaurant_create",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
    ),
    Row(
        "crm:restaurant_export",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200, accountant=200),
    ),
    Row("crm:restaurant_import", roles(403, admin=200, direction=200, client_manager=200)),
    Row("crm:restaurant_reassign", roles(403, admin=200, direction=200, client_manager=200)),
    Row("crm:restaurant_detail", every(200, anonymous=302), kwargs=_client),
    Row(
        "crm:restaurant_edit",
        roles(403, admin=200, direction=200, client_manager=200),
        kwargs=_client,
    ),
    Row(
        "crm:restaurant_archive",
        roles(403, admin=302, direction=302, client_manager=302),
        method="post",
        kwargs=_client,
    ),
    Row(
        "crm:restaurant_unarchive",
        roles(403),
        method="post",
        kwargs=_client,
    ),
    Row(
        "crm:restaurant_delete",
        roles(404, admin=302, direction=302, client_manager=302, sales_agent=302, accountant=403),
        method="post",
        kwargs=_prospect,
    ),
    Row(
        "crm:restaurant_assets",
        roles(403, admin=302, direction=302, client_manager=302),
        method="post",
        kwargs=_client,
    ),
    Row(
        "crm:restaurant_share",
        roles(404, admin=302, direction=302, client_manager=302, sales_agent=302, accountant=302),
        method="post",
        kwargs=_prospect,
        data={"colleague": "0"},
    ),
    Row("crm:restaurant_timeline", every(200, anonymous=302), kwargs=_client),
    Row("crm:restaurant_history", every(200, anonymous=302), kwargs=_client),
    Row(
        "crm:change_request_create",
        roles(403, sales_agent=200, community_manager=200),
        kwargs=_client,
    ),
    Row(
        "crm:conversion_create",
        roles(404, admin=200, direction=200, client_manager=200, sales_agent=200, accountant=403),
        kwargs=_prospect,
    ),
    Row(
        "crm:restaurant_contact_add",
        roles(403, admin=200, direction=200, client_manager=200),
        kwargs=_client,
    ),
    Row("crm:contact_list", every(200, anonymous=302)),
    Row(
        "crm:contact_create",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
    ),
    Row(
        "crm:contact_detail",
        every(200, anonymous=302),
        kwargs=lambda: {"pk": world()["contact"].pk},
    ),
    Row(
        "crm:contact_edit",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
        kwargs=lambda: {"pk": world()["contact"].pk},
    ),
    Row("crm:request_inbox", roles(200, review_manager=403)),
    Row(
        "crm:change_request",
        roles(404, admin=200, direction=200, client_manager=200, sales_agent=200, accountant=200),
        kwargs=lambda: {"pk": world()["change"].pk},
    ),
    Row(
        "crm:conversion_request",
        roles(404, admin=200, direction=200, client_manager=200, sales_agent=200, accountant=200),
        kwargs=lambda: {"pk": world()["conversion"].pk},
    ),
    # --- Sales ---
    Row("sales:kpis", roles(403, admin=200, direction=200, client_manager=200, sales_agent=200)),
    # Agents see their own field statistics; admins and direction choose an agent first (the
    # PDF without one sends them back to the page's prompt).
    Row("field_stats", roles(403, admin=200, direction=200, sales_agent=200)),
    Row("field_stats_pdf", roles(403, admin=302, direction=302, sales_agent=200)),
    Row(
        "sales:pipeline", roles(403, admin=200, direction=200, client_manager=200, sales_agent=200)
    ),
    Row("sales:opportunity_create", every(302, anonymous=302), method="post"),
    Row(
        "sales:opportunity_move",
        roles(404, admin=302, direction=302, client_manager=302, sales_agent=302),
        method="post",
        kwargs=lambda: {"pk": world()["opportunity"].pk},
        data={"stage": "meeting"},
    ),
    Row(
        "sales:invoice_list",
        roles(403, admin=200, direction=200, client_manager=200, accountant=200),
    ),
    Row(
        "sales:contract_list",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200, accountant=200),
    ),
    Row(
        "sales:contract_detail",
        roles(
            404,
            admin=200,
            direction=200,
            client_manager=200,
            sales_agent=200,
            community_manager=200,
            review_manager=200,
            accountant=200,
        ),
        kwargs=lambda: {"pk": world()["contract"].pk},
    ),
    Row(
        "sales:contract_action",
        roles(
            404,
            admin=302,
            direction=302,
            client_manager=302,
            sales_agent=302,
            community_manager=403,
            review_manager=403,
            accountant=403,
        ),
        method="post",
        kwargs=lambda: {"pk": world()["contract"].pk, "action": "suspend"},
        data={"start_date": "2026-03-01", "reason": "Travaux"},
    ),
    Row(
        "sales:contract_create",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row(
        "sales:restaurant_section",
        every(200, anonymous=302),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row(
        "sales:visit_today",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row(
        "sales:restaurant_summary",
        every(200, anonymous=302),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row("sales:agenda", roles(403, admin=200, direction=200, client_manager=200, sales_agent=200)),
    Row(
        "sales:agenda_events",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
        data={"start": "2026-11-01T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00"},
    ),
    Row(
        "sales:visit_plan",
        roles(
            403,
            admin=302,
            direction=302,
            client_manager=302,
            sales_agent=302,
            community_manager=302,
            review_manager=302,
            accountant=302,
        ),
        method="post",
    ),
    Row(
        "sales:visit_list",
        roles(403, admin=200, direction=200, client_manager=200, sales_agent=200),
    ),
    Row(
        "sales:visit_detail",
        roles(404, admin=200, direction=200, client_manager=200, sales_agent=200),
        kwargs=lambda: {"pk": world()["visit"].pk},
    ),
    Row(
        "sales:visit_move",
        roles(404, admin=400, direction=400, client_manager=400, sales_agent=400),
        method="post",
        kwargs=lambda: {"pk": world()["visit"].pk},
    ),
    Row("sales:feed_regenerate", every(302, anonymous=302), method="post"),
    Row(
        "sales:ical_feed",
        every(200, anonymous=200),
        kwargs=lambda: {"token": world()["feed"].token},
    ),
    Row(
        "sales:calendar_connect",
        roles(403, admin=302, direction=302, client_manager=302, sales_agent=302),
    ),
    Row(
        "sales:calendar_callback",
        roles(403, admin=302, direction=302, client_manager=302, sales_agent=302),
    ),
    Row("sales:calendar_disconnect", every(302, anonymous=302), method="post"),
    Row(
        "crm:conversion_signature",
        roles(404, admin=200, direction=200, client_manager=200, sales_agent=200, accountant=200),
        kwargs=lambda: {"pk": world()["conversion"].pk},
    ),
    # --- Social desk -------------------------------------------------------------------------
    Row(
        "social:restaurant_section",
        every(200, anonymous=302),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row(
        "social:restaurant_social",
        roles(200, accountant=403),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row(
        "social:restaurant_fetch",
        roles(403, admin=302, direction=302, community_manager=302, review_manager=302),
        method="post",
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
        data={"what": "reviews"},
    ),
    Row(
        "social:profile_update",
        roles(403, admin=302, direction=302, community_manager=302),
        method="post",
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
        data={"average_ticket": "30"},
    ),
    Row(
        "social:account_add",
        roles(403, admin=302, direction=302, community_manager=302),
        method="post",
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
        data={"network": "tripadvisor", "external_id": "123", "name": "Matrix TA"},
    ),
    Row(
        "social:connect_start",
        roles(403, admin=302, direction=302, community_manager=302),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk, "provider": "meta"},
    ),
    Row(
        "social:connect_meta_callback",
        roles(403, admin=302, direction=302, community_manager=302),
    ),
    Row(
        "social:connect_google_callback",
        roles(403, admin=302, direction=302, community_manager=302),
    ),
    Row("social:connect_choose", roles(403, admin=302, direction=302, community_manager=302)),
    Row(
        "social:account_disconnect",
        roles(403, admin=302, direction=302, community_manager=302),
        method="post",
        kwargs=lambda: {"pk": world()["account"].pk},
    ),
    Row("social:health", roles(403, admin=200, direction=200, community_manager=200)),
    Row(
        "social:post_list",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
    ),
    Row(
        "social:post_calendar",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
    ),
    Row(
        "social:post_events",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
        data={"start": "2026-11-01T00:00:00+01:00", "end": "2026-12-01T00:00:00+01:00"},
    ),
    Row(
        "social:post_edit",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
        kwargs=lambda: {"pk": world()["post"].pk},
    ),
    Row(
        "social:post_delete",
        roles(403, admin=302, direction=302, community_manager=302),
        method="post",
        kwargs=lambda: {"pk": world()["post"].pk},
    ),
    Row(
        "social:post_create",
        roles(403, admin=200, direction=200, community_manager=200),
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
    ),
    Row(
        "social:post_preview",
        roles(403, admin=200, direction=200, community_manager=200),
        method="post",
        kwargs=lambda: {"restaurant_pk": world()["client"].pk},
        data={"text": "Hello", "accounts": ["0"]},
    ),
    Row(
        "social:publication_retry",
        roles(403, admin=302, direction=302, community_manager=302),
        method="post",
        kwargs=lambda: {"pk": world()["publication"].pk},
    ),
    Row(
        "social:post_image",
        every(200, anonymous=200),
        kwargs=lambda: {"pk": world()["image"].pk, "token": world()["image_token"]},
    ),
    Row(
        "social:review_queue",
        roles(200, sales_agent=403, accountant=403),
    ),
    Row(
        "social:review_detail",
        roles(200, sales_agent=403, accountant=403),
        kwargs=lambda: {"pk": world()["review"].pk},
    ),
    Row(
        "monthly_list",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
    ),
    Row(
        "monthly_detail",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
        kwargs=lambda: {"pk": world()["monthly_report"].pk},
    ),
    Row(
        "monthly_preview",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
        kwargs=lambda: {"pk": world()["monthly_report"].pk},
    ),
    Row(
        "monthly_pdf",
        roles(403, admin=200, direction=200, client_manager=200, community_manager=200),
        kwargs=lambda: {"pk": world()["monthly_report"].pk},
    ),
    Row(
        "monthly_batch_start",
        roles(403, admin=302, direction=302, community_manager=302),
        method="post",
    ),
    Row(
        # A batch is its starter's own: other managers get 404.
        "monthly_batch",
        roles(403, admin=404, direction=404, community_manager=200),
        kwargs=lambda: {"pk": world()["report_batch"].pk},
    ),
    # The field kit's JSON API: sales agents (and admins, direction, who hold every permission);
    # an expired session answers 401 so the offline client asks to log in again. The matrix
    # posts a form, not {"envelopes": [...]}: 400 for those allowed in.
    Row(
        "field:api_envelopes",
        roles(403, anonymous=401, admin=400, direction=400, sales_agent=400),
        method="post",
    ),
    Row("field:api_snapshot", roles(403, anonymous=401, admin=200, direction=200, sales_agent=200)),
    # The offline client: its page for those who may use the kit; the manifest and the service
    # worker hold no data and are fetched by the browser on its own.
    Row("field:shell", roles(403, admin=200, direction=200, sales_agent=200)),
    Row("field:manifest", every(200, anonymous=200)),
    Row("field_service_worker", every(200, anonymous=200)),
]
