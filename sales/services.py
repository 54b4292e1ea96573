"""Every write of the sales app: contracts and their lifecycle, billing, visits, the pipeline."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from comadvisor.emails import email_send
from comadvisor.transactions import service_atomic
from crm import scope
from crm import services as crm_services
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from sales.enums import OPEN_STAGES, ContractStatus, NodeKind, Stage, VisitKind, VisitStatus
from sales.models import (
    Contract,
    ContractTerm,
    Invoice,
    LostReason,
    Opportunity,
    Pack,
    SalesSettings,
    StageChange,
    Suspension,
    Visit,
    VisitFormNode,
    add_months,
    first_of_month,
)

# --- Contracts -------------------------------------------------------------------------------


def contract_end_date(start: date, months: int) -> date:
    return add_months(start, months) - timedelta(days=1)


def _check_rights(by: User, restaurant: Restaurant) -> None:
    if not by.has_perm("sales.add_contract"):
        raise PermissionDenied
    if not scope.sees(by, restaurant):
        raise PermissionDenied


@transaction.atomic
def contract_sign(
    *,
    restaurant: Restaurant,
    by: User,
    pack: Pack,
    start_date: date,
    duration_months: int = 13,
    monthly_price: Decimal | None = None,
    posts_per_month: int | None = None,
    networks: Iterable[str] | None = None,
) -> Contract:
    """Sign `pack` for `restaurant`, customised or not. On a prospect the contract stays a draft
    until the conversion flow makes it a client."""
    _check_rights(by, restaurant)
    if duration_months < 1:
        raise ValidationError({"duration_months": _("A contract lasts at least one month.")})
    contract = Contract(
        restaurant=restaurant,
        start_date=start_date,
        duration_months=duration_months,
        end_date=contract_end_date(start_date, duration_months),
        status=ContractStatus.DRAFT
        if restaurant.status == RestaurantStatus.PROSPECT
        else ContractStatus.ACTIVE,
        signed_by=by,
    )
    contract.full_clean()
    contract._history_user = by
    contract.save()
    term = ContractTerm(
        contract=contract,
        starts_on=start_date,
        pack=pack,
        monthly_price=pack.monthly_price if monthly_price is None else monthly_price,
        posts_per_month=pack.posts_per_month if posts_per_month is None else posts_per_month,
        networks=list(pack.networks if networks is None else networks),
        changed_by=by,
    )
    term.full_clean()
    term.save()
    crm_services.activity_record(
        restaurant=restaurant,
        by=by,
        subject=_("Contract signed: %(pack)s, %(price)s € a month for %(months)d months")
        % {"pack": pack, "price": term.monthly_price, "months": duration_months},
    )
    return contract


def contracts_activate(*, restaurant: Restaurant) -> int:
    """Draft contracts of a restaurant that has become a client start counting (conversion)."""
    if restaurant.status == RestaurantStatus.PROSPECT:
        return 0
    return Contract.objects.filter(restaurant=restaurant, status=ContractStatus.DRAFT).update(
        status=ContractStatus.ACTIVE
    )


@transaction.atomic
def contract_renew(*, contract: Contract, by: User, duration_months: int | None = None) -> Contract:
    """A new contract on the current terms, starting the day after this one ends."""
    _check_rights(by, contract.restaurant)
    if hasattr(contract, "renewal"):
        raise ValidationError(_("This contract has already been renewed."))
    if (
        contract.status == ContractStatus.ENDED
        and contract.ended_at
        and contract.ended_at < contract.end_date
    ):
        raise ValidationError(_("A contract ended early cannot be renewed."))
    terms = contract.terms_on(contract.end_date)
    months = duration_months or contract.duration_months
    start = contract.end_date + timedelta(days=1)
    renewal = Contract(
        restaurant=contract.restaurant,
        start_date=start,
        duration_months=months,
        end_date=contract_end_date(start, months),
        status=ContractStatus.ACTIVE,
        signed_by=by,
        renewal_of=contract,
    )
    renewal.full_clean()
    renewal.save()
    ContractTerm.objects.create(
        contract=renewal,
        starts_on=start,
        pack=terms.pack,
        monthly_price=terms.monthly_price,
        posts_per_month=terms.posts_per_month,
        networks=terms.networks,
        changed_by=by,
    )
    crm_services.activity_record(
        restaurant=contract.restaurant,
        by=by,
        subject=_("Contract renewed from %(start)s for %(months)d months")
        % {"start": start.strftime("%d/%m/%Y"), "months": months},
    )
    return renewal


@transaction.atomic
def contract_upgrade(
    *,
    contract: Contract,
    by: User,
    starts_on: date,
    pack: Pack,
    monthly_price: Decimal,
    posts_per_month: int,
    networks: Iterable[str],
) -> ContractTerm:
    """New terms from `starts_on`; the months before keep the old ones."""
    _check_rights(by, contract.restaurant)
    if not contract.start_date < starts_on <= contract.end_date:
        raise ValidationError(
            {"starts_on": _("The change must start within the contract, after its first day.")}
        )
    if contract.status == ContractStatus.ENDED:
        raise ValidationError(_("This contract has ended."))
    term, _created = ContractTerm.objects.update_or_create(
        contract=contract,
        starts_on=starts_on,
        defaults={
            "pack": pack,
            "monthly_price": monthly_price,
            "posts_per_month": posts_per_month,
            "networks": list(networks),
            "changed_by": by,
        },
    )
    crm_services.activity_record(
        restaurant=contract.restaurant,
        by=by,
        subject=_("Contract changed from %(date)s: %(pack)s, %(price)s € a month")
        % {"date": starts_on.strftime("%d/%m/%Y"), "pack": pack, "price": monthly_price},
    )
    return term


@transaction.atomic
def contract_suspend(*, contract: Contract, by: User, start_date: date, reason: str) -> Suspension:
    _check_rights(by, contract.restaurant)
    if contract.status not in (ContractStatus.ACTIVE, ContractStatus.DRAFT):
        raise ValidationError(_("Only an active contract can be suspended."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    if not contract.start_date <= start_date <= contract.end_date:
        raise ValidationError({"start_date": _("The suspension must start within the contract.")})
    suspension = Suspension.objects.create(
        contract=contract, start_date=start_date, reason=reason.strip(), created_by=by
    )
    contract.status = ContractStatus.SUSPENDED
    contract._history_user = by
    contract.save(update_fields=["status"])
    crm_services.activity_record(
        restaurant=contract.restaurant,
        by=by,
        subject=_("Contract suspended from %(date)s") % {"date": start_date.strftime("%d/%m/%Y")},
        body=reason.strip(),
    )
    return suspension


@transaction.atomic
def contract_resume(*, contract: Contract, by: User, end_date: date) -> Suspension:
    """Close the open suspension on `end_date` (its last suspended day)."""
    _check_rights(by, contract.restaurant)
    suspension = contract.suspensions.filter(end_date__isnull=True).first()
    if suspension is None:
        raise ValidationError(_("This contract is not suspended."))
    if end_date < suspension.start_date:
        raise ValidationError({"end_date": _("The suspension cannot end before it starts.")})
    suspension.end_date = end_date
    suspension.save(update_fields=["end_date"])
    contract.status = ContractStatus.ACTIVE
    contract._history_user = by
    contract.save(update_fields=["status"])
    crm_services.activity_record(
        restaurant=contract.restaurant,
        by=by,
        subject=_("Contract resumed after %(date)s") % {"date": end_date.strftime("%d/%m/%Y")},
    )
    return suspension


@transaction.atomic
def contract_end(*, contract: Contract, by: User, ended_at: date, reason: str) -> Contract:
    """End early (or at term) with a reason; months starting after `ended_at` are not billed."""
    _check_rights(by, contract.restaurant)
    return _contract_close(contract=contract, by=by, ended_at=ended_at, reason=reason)


def _contract_close(
    *, contract: Contract, by: User | None, ended_at: date, reason: str
) -> Contract:
    """The end itself, for a user (`contract_end`) and for the nightly job (`by` None): the
    status, date and reason (kept in the contract's history), open suspensions closed, the
    timeline entry, and the restaurant back to a former client once nothing else of it runs.
    Called inside a transaction."""
    if contract.status == ContractStatus.ENDED:
        raise ValidationError(_("This contract has ended."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    if not contract.start_date <= ended_at <= contract.end_date:
        raise ValidationError({"ended_at": _("The end must fall within the contract.")})
    contract.status = ContractStatus.ENDED
    contract.ended_at = ended_at
    contract.end_reason = reason.strip()
    contract._history_user = by
    contract.save(update_fields=["status", "ended_at", "end_reason"])
    contract.suspensions.filter(end_date__isnull=True).update(end_date=ended_at)
    crm_services.activity_record(
        restaurant=contract.restaurant,
        by=by,
        subject=_("Contract ended on %(date)s") % {"date": ended_at.strftime("%d/%m/%Y")},
        body=reason.strip(),
    )
    if (
        not Contract.objects.filter(restaurant=contract.restaurant)
        .exclude(status=ContractStatus.ENDED)
        .exists()
    ):
        restaurant = contract.restaurant
        if restaurant.status == RestaurantStatus.CLIENT and ended_at <= timezone.localdate():
            restaurant.status = RestaurantStatus.FORMER
            restaurant._history_user = by
            restaurant.save(update_fields=["status", "updated_at"])
    return contract


def contracts_end_expired(*, today: date | None = None) -> list[Contract]:
    """Nightly: every active or suspended contract whose last day is over ends on that day, as
    `contract_end` ends one (history, timeline, the restaurant a former client once none of its
    contracts runs). A renewed contract ends too: its renewal, a contract of its own, carries on
    and keeps the restaurant a client. Ended on its end date, a contract still served its last
    month (its report and invoice are decided by the dates). Idempotent: a contract is re-read
    under a row lock and left alone once ended, so two runs end it once."""
    today = today or timezone.localdate()
    running = (ContractStatus.ACTIVE, ContractStatus.SUSPENDED)
    expired = Contract.objects.filter(status__in=running, end_date__lt=today)
    ended: list[Contract] = []
    for pk in expired.order_by("end_date", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            contract = (
                expired.select_for_update(of=("self",))
                .select_related("restaurant", "renewal")
                .filter(pk=pk)
                .first()
            )
            if contract is None:  # ended meanwhile, by hand or by another run
                continue
            reason = (
                _("Reached its end date; its renewal carries on.")
                if hasattr(contract, "renewal")
                else _("Reached its end date.")
            )
            ended.append(
                _contract_close(
                    contract=contract, by=None, ended_at=contract.end_date, reason=reason
                )
            )
    return ended


def contracts_remind_ending(*, today: date | None = None) -> int:
    """E-mail once the agent and the client managers about contracts ending soon."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=SalesSettings.load().contract_reminder_days)
    due = Contract.objects.filter(
        status__in=(ContractStatus.ACTIVE, ContractStatus.SUSPENDED),
        end_date__gte=today,
        end_date__lte=horizon,
        reminder_sent_at__isnull=True,
        renewal__isnull=True,
    ).select_related("restaurant", "restaurant__sales_agent")
    managers = list(User.objects.filter(groups__name="client_manager", is_active=True))
    sent = 0
    for contract in due:
        with transaction.atomic():
            # Claim the reminder first: two runs at once send it once.
            claimed = Contract.objects.filter(pk=contract.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=timezone.now()
            )
            if not claimed:
                continue
            recipients = {u.pk: u for u in managers}
            if contract.restaurant.sales_agent:
                recipients[contract.restaurant.sales_agent.pk] = contract.restaurant.sales_agent
            url = f"{settings.SITE_URL}{reverse('sales:contract_detail', args=[contract.pk])}"
            for user in recipients.values():
                transaction.on_commit(
                    lambda user=user, contract=contract, url=url: email_send(
                        key="sales-contract-ending",
                        to=[user.email],
                        language=user.language,
                        context={
                            "code": contract.restaurant.client_code or "",
                            "name": contract.restaurant.name,
                            "end": contract.end_date.strftime("%d/%m/%Y"),
                            "days": (contract.end_date - today).days,
                            "url": url,
                        },
                    )
                )
            sent += 1
    return sent


# --- Billing ---------------------------------------------------------------------------------


def contract_month_starts(contract: Contract) -> list[date]:
    """The first day of each contract month (13 for a 13-month contract)."""
    return [add_months(contract.start_date, k) for k in range(contract.duration_months)]


def billable_month_start(contract: Contract, month: date) -> date | None:
    """The contract month starting in calendar `month`, if it is to be billed."""
    if contract.status == ContractStatus.DRAFT:
        return None
    for start in contract_month_starts(contract):
        if first_of_month(start) != month:
            continue
        if contract.ended_at and start > contract.ended_at:
            return None
        if any(suspension.covers_month(start) for suspension in contract.suspensions.all()):
            return None
        return start
    return None


@transaction.atomic
def invoices_bill_month(*, month: date) -> list[Invoice]:
    """One invoice per active, non-suspended contract month starting in `month`; running it
    again creates nothing (unique contract + month)."""
    month = first_of_month(month)
    next_month = add_months(month, 1)
    candidates = (
        Contract.objects.filter(start_date__lt=next_month, end_date__gte=month)
        .exclude(status=ContractStatus.DRAFT)
        .exclude(invoices__month=month)
        .select_related("restaurant")
        .prefetch_related("terms__pack", "suspensions")
    )
    invoices = []
    for contract in candidates:
        start = billable_month_start(contract, month)
        if start is None:
            continue
        terms = contract.terms_on(start)
        invoices.append(
            Invoice(
                number=f"F{month:%Y%m}-{contract.pk:06d}",
                contract=contract,
                restaurant=contract.restaurant,
                month=month,
                amount=terms.monthly_price,
                pack_name=str(terms.pack),
            )
        )
    # ignore_conflicts: a concurrent run that billed the same month first wins, nothing doubles.
    Invoice.objects.bulk_create(invoices, ignore_conflicts=True, batch_size=1000)
    return invoices


# --- Visits ----------------------------------------------------------------------------------

REVISIT_PRESETS = {
    "1w": timedelta(weeks=1),
    "2w": timedelta(weeks=2),
    "1m": 1,
    "3m": 3,
    "6m": 6,
    "1y": 12,
}


def revisit_from_preset(preset: str, today: date) -> date:
    step = REVISIT_PRESETS[preset]
    return today + step if isinstance(step, timedelta) else add_months(today, step)


def _check_visit_rights(by: User, restaurant: Restaurant, agent: User) -> None:
    if not by.has_perm("sales.add_visit"):
        raise PermissionDenied
    if not scope.sees(by, restaurant):
        raise PermissionDenied
    if agent.pk != by.pk and not by.has_perm("sales.view_all_visits"):
        raise PermissionDenied


def answers_from_nodes(node_ids: Iterable[int]) -> list[dict]:
    """Check chosen options against the tree and keep their labels as they read today."""
    chosen = set(node_ids)
    if not chosen:
        return []
    nodes = {node.pk: node for node in VisitFormNode.objects.filter(active=True)}
    answers = []
    per_group: dict[int, int] = {}
    for node_id in sorted(chosen):
        node = nodes.get(node_id)
        if node is None or node.kind != NodeKind.OPTION:
            raise ValidationError({"answers": _("An answer is not part of the visit form.")})
        group = nodes.get(node.parent_id)
        if group is None:
            raise ValidationError({"answers": _("An answer is not part of the visit form.")})
        # A nested group counts only under a chosen option.
        if group.parent_id is not None and group.parent_id not in chosen:
            raise ValidationError(
                {"answers": _("“%(option)s” needs its parent answer.") % {"option": node.label}}
            )
        per_group[group.pk] = per_group.get(group.pk, 0) + 1
        if group.kind == NodeKind.RADIO and per_group[group.pk] > 1:
            raise ValidationError(
                {"answers": _("Choose one answer only for “%(group)s”.") % {"group": group.label}}
            )
        answers.append({"node": node.pk, "group": group.label, "option": node.label})
    order = _tree_order(nodes.values())
    return sorted(answers, key=lambda answer: order[answer["node"]])


def _tree_order(nodes: Iterable[VisitFormNode]) -> dict[int, int]:
    """Position of each node in a depth-first reading of the form, as it is displayed."""
    children: dict[int | None, list[VisitFormNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    positions: dict[int, int] = {}

    def visit(parent_id: int | None) -> None:
        for child in sorted(children.get(parent_id, []), key=lambda n: (n.order, n.pk)):
            positions[child.pk] = len(positions)
            visit(child.pk)

    visit(None)
    return positions


def _visit_day_bounds(
    day: date, backdate_days: int | None = None, *, today: date | None = None
) -> None:
    today = today or timezone.localdate()
    if backdate_days is None:
        backdate_days = SalesSettings.load().visit_backdate_days
    oldest = today - timedelta(days=backdate_days)
    if day > today:
        raise ValidationError({"day": _("A visit cannot be recorded in the future.")})
    if day < oldest:
        raise ValidationError(
            {
                "day": _("A visit can be dated back to %(date)s at the earliest.")
                % {"date": oldest.strftime("%d/%m/%Y")}
            }
        )


def _record_done(visit: Visit, by: User) -> None:
    crm_services.activity_record(
        restaurant=visit.restaurant,
        by=by,
        occurred_at=visit.start,
        subject=_("%(kind)s done") % {"kind": visit.get_kind_display()},
        body="\n".join(
            filter(None, [visit.report, *[f"{a['group']}: {a['option']}" for a in visit.answers]])
        ),
        origin=visit.origin,
    )
    crm_services.restaurant_mark_visited(
        restaurant=visit.restaurant, by=by, visited_at=visit.start, revisit_date=visit.revisit_date
    )


@service_atomic
def visit_record_today(
    *,
    restaurant: Restaurant,
    by: User,
    day: date,
    kind: str = VisitKind.VISIT,
    report: str = "",
    answers: Iterable[int] = (),
    pack_offered: Pack | None = None,
    revisit_date: date | None = None,
    origin: str = "",
    backdate_days: int | None = None,
    made_at: datetime | None = None,
) -> Visit:
    """ "Visit today": a done visit, dated today or back within the admin bound, never ahead.

    `backdate_days` replaces the sales settings' bound (the field kit has its own). `made_at`
    is when the agent recorded it, when that was earlier than now (offline): the bound and the
    visit's time of day count from then, so a visit synchronised days later is not refused."""
    _check_visit_rights(by, restaurant, by)
    now = timezone.now()
    made_at = min(made_at, now) if made_at is not None else now
    recorded = timezone.localtime(made_at)
    _visit_day_bounds(day, backdate_days, today=recorded.date())
    start = timezone.make_aware(
        datetime.combine(day, recorded.time().replace(second=0, microsecond=0))
    )
    start = min(start, made_at)
    visit = Visit(
        restaurant=restaurant,
        agent=by,
        start=start,
        end=start + timedelta(minutes=30),
        kind=kind,
        status=VisitStatus.DONE,
        report=report.strip(),
        answers=answers_from_nodes(answers),
        pack_offered=pack_offered,
        revisit_date=revisit_date,
        origin=origin,
        while_prospect=restaurant.status == RestaurantStatus.PROSPECT,
    )
    # The restaurant and the agent are loaded instances, the pack too, and the end follows the
    # start by construction: nothing the database would need to be asked about.
    visit.full_clean(exclude=["restaurant", "agent", "pack_offered"], validate_constraints=False)
    visit.save()
    _record_done(visit, by)
    return visit


@transaction.atomic
def visit_plan(
    *,
    restaurant: Restaurant,
    by: User,
    agent: User,
    start: datetime,
    end: datetime,
    kind: str = VisitKind.VISIT,
) -> Visit:
    _check_visit_rights(by, restaurant, agent)
    if end < start:
        raise ValidationError({"end": _("The end comes before the start.")})
    visit = Visit(
        restaurant=restaurant,
        agent=agent,
        start=start,
        end=end,
        kind=kind,
        status=VisitStatus.PLANNED,
        while_prospect=restaurant.status == RestaurantStatus.PROSPECT,
    )
    visit.full_clean()
    visit.save()
    _after_calendar_change(visit)
    return visit


def _editable_visit(visit: Visit, by: User) -> None:
    if not Visit.objects.visible_to(by).filter(pk=visit.pk).exists():
        raise PermissionDenied


@transaction.atomic
def visit_move(*, visit: Visit, by: User, start: datetime, end: datetime) -> Visit:
    _editable_visit(visit, by)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError(_("Only a planned visit can be moved."))
    if end < start:
        raise ValidationError({"end": _("The end comes before the start.")})
    visit.start, visit.end = start, end
    visit.save(update_fields=["start", "end", "updated_at"])
    _after_calendar_change(visit)
    return visit


@transaction.atomic
def visit_cancel(*, visit: Visit, by: User) -> Visit:
    _editable_visit(visit, by)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError(_("Only a planned visit can be cancelled."))
    visit.status = VisitStatus.CANCELLED
    visit.save(update_fields=["status", "updated_at"])
    _after_calendar_change(visit)
    return visit


@transaction.atomic
def visit_complete(
    *,
    visit: Visit,
    by: User,
    report: str = "",
    answers: Iterable[int] = (),
    revisit_date: date | None = None,
    pack_offered: Pack | None = None,
) -> Visit:
    """A planned visit marked done; never while it is still in the future."""
    _editable_visit(visit, by)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError(_("This visit is not planned."))
    if visit.start > timezone.now():
        raise ValidationError(_("A visit in the future cannot be marked done."))
    visit.status = VisitStatus.DONE
    visit.report = report.strip()
    visit.answers = answers_from_nodes(answers)
    visit.revisit_date = revisit_date
    visit.pack_offered = pack_offered
    visit.save()
    _record_done(visit, by)
    _after_calendar_change(visit)
    return visit


def _after_calendar_change(visit: Visit) -> None:
    """Send the change to the agent's Google calendar once the transaction commits."""
    from sales import calendar_sync

    calendar_sync.visit_changed(visit)


# --- Pipeline --------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    restaurant: Restaurant,
    by: User,
    pack: Pack | None = None,
    monthly_amount: Decimal = Decimal(0),
    expected_close: date | None = None,
) -> Opportunity:
    if not by.has_perm("sales.add_opportunity"):
        raise PermissionDenied
    if not scope.sees(by, restaurant):
        raise PermissionDenied
    opportunity = Opportunity(
        restaurant=restaurant,
        owner=by,
        pack=pack,
        monthly_amount=monthly_amount
        if monthly_amount
        else (pack.monthly_price if pack else Decimal(0)),
        expected_close=expected_close,
    )
    opportunity.full_clean()
    opportunity.save()
    return opportunity


@transaction.atomic
def opportunity_move(
    *, opportunity: Opportunity, by: User, stage: str, lost_reason: LostReason | None = None
) -> Opportunity:
    """Change stage, logging how long the deal stayed in the previous one."""
    if not Opportunity.objects.visible_to(by).filter(pk=opportunity.pk).exists():
        raise PermissionDenied
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    if stage == opportunity.stage:
        return opportunity
    if stage == Stage.LOST and lost_reason is None:
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
    now = timezone.now()
    StageChange.objects.create(
        opportunity=opportunity,
        from_stage=opportunity.stage,
        to_stage=stage,
        changed_at=now,
        changed_by=by,
        seconds_in_stage=int((now - opportunity.stage_changed_at).total_seconds()),
    )
    opportunity.stage = stage
    opportunity.stage_changed_at = now
    opportunity.lost_reason = lost_reason if stage == Stage.LOST else None
    opportunity.save(update_fields=["stage", "stage_changed_at", "lost_reason"])
    return opportunity


def opportunity_is_idle(opportunity: Opportunity, idle_days: int) -> bool:
    return (
        opportunity.stage in OPEN_STAGES
        and timezone.now() - opportunity.stage_changed_at > timedelta(days=idle_days)
    )


def users_with_sales_role():
    return User.objects.filter(groups__name="sales_agent", is_active=True).order_by(
        "first_name", "last_name", "username"
    )
