import re
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from crm import scope, selectors, services
from crm.enums import ActivityKind, ContactRole, RequestStatus, RestaurantStatus
from crm.forms import (
    ActivityForm,
    ChangeRequestForm,
    ContactForm,
    ContactLinkForm,
    ConversionForm,
    ReassignForm,
    RejectForm,
    RestaurantForm,
    ValidateConversionForm,
)
from crm.models import (
    ChangeRequest,
    ContactLink,
    ConversionRequest,
    CustomField,
    Restaurant,
    Segment,
    Zone,
)

PAGE_SIZE = 50

# The inbox's two lists, for its "kind" filter.
REQUEST_KINDS = [
    ("conversion", gettext_lazy("Client creations")),
    ("change", gettext_lazy("Modifications")),
]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def filters_from_request(request: HttpRequest) -> selectors.RestaurantFilters:
    params = request.GET
    return selectors.RestaurantFilters(
        q=params.get("q", "")[:100],
        status=params.get("status", ""),
        zone=_int(params.get("zone")),
        sales_agent=_int(params.get("sales_agent")),
        community_manager=_int(params.get("community_manager")),
        without_community_manager=params.get("community_manager") == "none",
        segment=_int(params.get("segment")),
        city=params.get("city", "")[:100],
        archived=params.get("archived", ""),
        custom={key[3:]: value for key, value in params.items() if key.startswith("cf_") and value},
        sort=params.get("sort", "name"),
    )


def form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class ListFilters:
    """Reads a list page's filters from the query string. A value its filter does not take is
    reported in the reader's language, and the page then lists nothing rather than rows the
    filter did not ask for (the lists behind the dashboards' figures must not show more)."""

    def __init__(self, request: HttpRequest) -> None:
        self.params = request.GET
        self.errors: list[str] = []

    def _raw(self, name: str) -> str:
        return self.params.get(name, "").strip()

    def _refuse(self, message: str, label: str, value: str) -> None:
        self.errors.append(message % {"filter": label, "value": value[:40]})

    def month(self, name: str, label: str) -> date | None:
        """A YYYY-MM value as the first day of that month."""
        value = self._raw(name)
        if not value:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}", value):
                raise ValueError(value)
            return date(int(value[:4]), int(value[5:]), 1)
        except ValueError:
            self._refuse(_("%(filter)s: “%(value)s” is not a month (YYYY-MM)."), label, value)
            return None

    def day(self, name: str, label: str) -> date | None:
        value = self._raw(name)
        if not value:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self._refuse(_("%(filter)s: “%(value)s” is not a date (YYYY-MM-DD)."), label, value)
            return None

    def user(self, name: str, label: str) -> User | None:
        """The user whose id the filter gives (one query when it is given)."""
        value = self._raw(name)
        if not value:
            return None
        found = None
        if value.isdigit() and len(value) <= 9:
            found = User.objects.filter(pk=int(value)).first()
        if found is None:
            self._refuse(_("%(filter)s: “%(value)s” is not a user."), label, value)
        return found

    def choice(self, name: str, label: str, choices) -> str:
        value = self._raw(name)
        if value and value not in dict(choices):
            self._refuse(_("%(filter)s: “%(value)s” is not one of the choices."), label, value)
            return ""
        return value


def query_without(request: HttpRequest, *names: str) -> str:
    """The page's query string without `names` (the pagination links add their own)."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
@permission_required("crm.view_restaurant", raise_exception=True)
def restaurant_list(request: HttpRequest) -> HttpResponse:
    filters = filters_from_request(request)
    queryset = selectors.restaurant_list(user=request.user, filters=filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "statuses": RestaurantStatus.choices,
        "zones": Zone.objects.all(),
        "segments": Segment.objects.all(),
        "agents": services.users_with_role("sales_agent"),
        "community_managers": services.users_with_role("community_manager"),
        "custom_fields": CustomField.objects.filter(active=True),
        "sort": filters.sort,
    }
    template = (
        "crm/partials/restaurant_table.html"
        if request.htmx and not request.htmx.boosted
        else "crm/restaurant_list.html"
    )
    return render(request, template, context)


@login_required
@permission_required("crm.add_restaurant", raise_exception=True)
def restaurant_create(request: HttpRequest) -> HttpResponse:
    form = RestaurantForm(request.POST or None, user=request.user)
    duplicates, hidden = [], 0
    if request.method == "POST" and form.is_valid():
        try:
            restaurant = services.restaurant_create(
                by=request.user,
                data=form.restaurant_data(),
                custom=form.custom_data(),
                confirm_duplicates=request.POST.get("confirm_duplicates") == "1",
            )
        except services.DuplicatesFound as found:
            duplicates, hidden = found.matches, found.hidden
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Prospect “%(name)s” created.") % {"name": restaurant.name})
            return redirect("crm:restaurant_detail", pk=restaurant.pk)
    return render(
        request,
        "crm/restaurant_form.html",
        {"form": form, "duplicates": duplicates, "hidden_duplicates": hidden, "creating": True},
    )


@login_required
def restaurant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    user = request.user
    timeline = selectors.timeline_page(restaurant=restaurant)
    context = {
        "restaurant": restaurant,
        "contacts": selectors.restaurant_contacts(restaurant=restaurant),
        "custom_values": selectors.restaurant_custom_values(restaurant=restaurant),
        "assets": selectors.restaurant_assets(restaurant=restaurant),
        "timeline": timeline,
        "activity_form": ActivityForm(),
        "kinds": ActivityKind.choices,
        "history": selectors.restaurant_history(restaurant=restaurant, limit=20),
        "shared_with": selectors.restaurant_shared_with(restaurant=restaurant)
        if restaurant.is_prospect
        else [],
        "colleagues": services.users_with_role("sales_agent").exclude(pk=user.pk)
        if services.may_share(user, restaurant)
        else [],
        "sections": [reverse(name, args=[restaurant.pk]) for name in settings.RESTAURANT_SECTIONS],
        "pending_conversion": restaurant.conversion_requests.filter(
            status=RequestStatus.PENDING
        ).first(),
        "pending_changes": restaurant.change_requests.filter(
            status=RequestStatus.PENDING
        ).select_related("requested_by"),
        "may": {
            "edit": scope.may_edit(user, restaurant),
            "delete": scope.may_delete(user, restaurant),
            "archive": scope.may_archive(user, restaurant),
            "unarchive": scope.may_unarchive(user, restaurant),
            "request_change": scope.may_request_change(user, restaurant),
            "convert": scope.may_request_conversion(user, restaurant),
            "add_activity": scope.may_add_activity(user, restaurant),
            "link_contact": scope.may_edit(user, restaurant) and user.has_perm("crm.add_contact"),
            "share": services.may_share(user, restaurant),
        },
    }
    return render(request, "crm/restaurant_detail.html", context)


@login_required
def restaurant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    if not scope.may_edit(request.user, restaurant):
        raise PermissionDenied
    form = RestaurantForm(request.POST or None, user=request.user, restaurant=restaurant)
    if request.method == "POST" and form.is_valid():
        try:
            services.restaurant_update(
                restaurant=restaurant,
                by=request.user,
                data=form.restaurant_data(),
                custom=form.custom_data(),
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("crm:restaurant_detail", pk=restaurant.pk)
    return render(request, "crm/restaurant_form.html", {"form": form, "restaurant": restaurant})


def _post_action(
    request: HttpRequest, pk: int, action, success: str, to_list: bool = False
) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    action(restaurant=restaurant, by=request.user)
    messages.success(request, success)
    return redirect(
        "crm:restaurant_list" if to_list else "crm:restaurant_detail",
        **({} if to_list else {"pk": pk}),
    )


@login_required
@require_POST
def restaurant_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, services.restaurant_archive, _("Restaurant archived."))


@login_required
@require_POST
def restaurant_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, services.restaurant_unarchive, _("Restaurant restored."))


@login_required
@require_POST
def restaurant_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, services.restaurant_delete, _("Prospect deleted."), to_list=True
    )


@login_required
@require_POST
def restaurant_assets(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    counts = {}
    for key, value in request.POST.items():
        if key.startswith("asset_"):
            type_id, count = _int(key[6:]), _int(value)
            if type_id is None or count is None or count < 0:
                messages.error(request, _("Counts must be whole numbers, zero or more."))
                return redirect("crm:restaurant_detail", pk=pk)
            counts[type_id] = count
    try:
        services.restaurant_set_assets(restaurant=restaurant, by=request.user, counts=counts)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Asset counts saved."))
    if request.htmx:
        return render(
            request,
            "crm/partials/assets.html",
            {
                "restaurant": restaurant,
                "assets": selectors.restaurant_assets(restaurant=restaurant),
                "may": {"edit": True},
            },
        )
    return redirect("crm:restaurant_detail", pk=pk)


@login_required
def restaurant_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: one page of the timeline (filters, cursor). POST: add a call, e-mail, meeting or note."""
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    form = ActivityForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.activity_add(restaurant=restaurant, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors(form, error)
            else:
                form = ActivityForm()
        elif not request.htmx:
            messages.error(request, _("The entry was not saved: check the form."))
        if not request.htmx:
            return redirect("crm:restaurant_detail", pk=pk)
    kinds = [kind for kind in request.GET.getlist("kind") if kind in ActivityKind.values]
    timeline = selectors.timeline_page(
        restaurant=restaurant,
        kinds=kinds,
        include_archived=request.GET.get("archived") == "1",
        include_hidden_origins=request.GET.get("hidden") == "1",
        before=request.GET.get("before"),
    )
    context = {
        "restaurant": restaurant,
        "timeline": timeline,
        "activity_form": form,
        "kinds": ActivityKind.choices,
        "selected_kinds": kinds,
        "may": {"add_activity": scope.may_add_activity(request.user, restaurant)},
        "append": bool(request.GET.get("before")),
    }
    template = (
        "crm/partials/timeline_entries.html" if context["append"] else "crm/partials/timeline.html"
    )
    return render(request, template, context)


@login_required
def restaurant_history(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    return render(
        request,
        "crm/restaurant_history.html",
        {
            "restaurant": restaurant,
            "history": selectors.restaurant_history(restaurant=restaurant, limit=500),
        },
    )


@login_required
def change_request_create(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    if not scope.may_request_change(request.user, restaurant):
        raise PermissionDenied
    form = ChangeRequestForm(request.POST or None, restaurant=restaurant)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_request_create(
                restaurant=restaurant,
                by=request.user,
                values=form.changed_values(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Your request was sent to the accountant."))
            return redirect("crm:restaurant_detail", pk=pk)
    return render(request, "crm/change_request_form.html", {"form": form, "restaurant": restaurant})


@login_required
def conversion_create(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    if not scope.may_request_conversion(request.user, restaurant):
        raise PermissionDenied
    missing = services.conversion_missing_fields(restaurant=restaurant)
    initial = {
        "payment_mode": restaurant.payment_mode,
        "payment_days": restaurant.payment_days,
        "iban": restaurant.iban,
        "bic": restaurant.bic,
    }
    form = ConversionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            signature = services.decode_signature(data["signature"])
            services.conversion_request_create(
                restaurant=restaurant,
                by=request.user,
                payment_mode=data["payment_mode"],
                payment_days=data["payment_days"],
                iban=data["iban"],
                bic=data["bic"],
                signature=signature,
                comment=data["comment"],
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("The client creation request was sent to the accountant."))
            return redirect("crm:restaurant_detail", pk=pk)
    missing_other = [
        (field, label) for field, label in missing if field not in ("payment_mode", "payment_days")
    ]
    return render(
        request,
        "crm/conversion_form.html",
        {
            "form": form,
            "restaurant": restaurant,
            "missing": missing_other,
            "settings": services.crm_settings(),
        },
    )


@login_required
def request_inbox(request: HttpRequest) -> HttpResponse:
    """Change and client creation requests by status; filtered by kind, by the month they were
    decided and by who asked (the lists behind the dashboards' request and new-client counts)."""
    if not (
        request.user.has_perm("crm.view_changerequest")
        or request.user.has_perm("crm.add_changerequest")
    ):
        raise PermissionDenied
    status = request.GET.get("status", RequestStatus.PENDING)
    if status not in RequestStatus.values:
        status = RequestStatus.PENDING
    filters = ListFilters(request)
    kind = filters.choice("kind", _("Kind"), REQUEST_KINDS)
    requested_by = filters.user("requested_by", _("Asked by"))
    decided = filters.month("decided", _("Decided in"))
    lists = selectors.request_inbox(
        user=request.user,
        status=status,
        kind=kind,
        decided_in=decided,
        requested_by=requested_by.pk if requested_by else None,
    )
    if filters.errors:
        lists = {name: queryset.none() for name, queryset in lists.items()}
    return render(
        request,
        "crm/request_inbox.html",
        {
            "changes": Paginator(lists["changes"], PAGE_SIZE).get_page(request.GET.get("page"))
            if "changes" in lists
            else None,
            "conversions": Paginator(lists["conversions"], PAGE_SIZE).get_page(
                request.GET.get("cpage")
            )
            if "conversions" in lists
            else None,
            "status": status,
            "statuses": RequestStatus.choices,
            "kind": kind,
            "kinds": REQUEST_KINDS,
            "decided": decided,
            "requested_by": requested_by,
            "filter_errors": filters.errors,
            "status_query": query_without(request, "status", "page", "cpage"),
            "changes_query": query_without(request, "page"),
            "conversions_query": query_without(request, "cpage"),
        },
    )


@login_required
def change_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(
        ChangeRequest.objects.visible_to(request.user).select_related(
            "restaurant", "requested_by", "decided_by"
        ),
        pk=pk,
    )
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    may_decide = (
        request.user.has_perm("crm.decide_changerequest") and change.status == RequestStatus.PENDING
    )
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "apply":
                services.change_request_apply(change_request=change, by=request.user)
                messages.success(request, _("Change applied."))
                return redirect("crm:request_inbox")
            if reject_form.is_valid():
                services.change_request_reject(
                    change_request=change,
                    by=request.user,
                    reason=reject_form.cleaned_data["reason"],
                )
                messages.success(request, _("Request rejected."))
                return redirect("crm:request_inbox")
        except ValidationError as error:
            form_errors(reject_form, error)
    return render(
        request,
        "crm/change_request_detail.html",
        {"change": change, "reject_form": reject_form, "may_decide": may_decide},
    )


@login_required
def conversion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversion = get_object_or_404(
        ConversionRequest.objects.visible_to(request.user).select_related(
            "restaurant",
            "requested_by",
            "decided_by",
            "restaurant__segment",
            "restaurant__zone",
            "restaurant__sales_agent",
        ),
        pk=pk,
    )
    action = request.POST.get("action")
    validate_form = ValidateConversionForm(request.POST if action == "validate" else None)
    reject_form = RejectForm(request.POST if action == "reject" else None)
    may_decide = (
        request.user.has_perm("crm.decide_conversionrequest")
        and conversion.status == RequestStatus.PENDING
    )
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied
        try:
            if action == "validate" and validate_form.is_valid():
                services.conversion_validate(
                    conversion=conversion,
                    by=request.user,
                    client_code=validate_form.cleaned_data["client_code"],
                )
                messages.success(request, _("Client created."))
                return redirect("crm:restaurant_detail", pk=conversion.restaurant_id)
            if action == "reject" and reject_form.is_valid():
                services.conversion_reject(
                    conversion=conversion,
                    by=request.user,
                    reason=reject_form.cleaned_data["reason"],
                )
                messages.success(request, _("Request rejected."))
                return redirect("crm:request_inbox")
        except ValidationError as error:
            form_errors(validate_form if action == "validate" else reject_form, error)
    return render(
        request,
        "crm/conversion_detail.html",
        {
            "conversion": conversion,
            "validate_form": validate_form,
            "reject_form": reject_form,
            "may_decide": may_decide,
        },
    )


@login_required
@permission_required("crm.assign_restaurant", raise_exception=True)
def restaurant_reassign(request: HttpRequest) -> HttpResponse:
    form = ReassignForm(request.POST or request.GET or None)
    matches = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        queryset = (
            Restaurant.objects.visible_to(request.user).active().filter(status__in=form.statuses())
        )
        if data["zone"]:
            queryset = queryset.filter(zone=data["zone"])
        if data["postal_prefix"]:
            queryset = queryset.filter(postal_code__startswith=data["postal_prefix"].strip())
        if data["current_agent"]:
            queryset = queryset.filter(sales_agent=data["current_agent"])
        matches = queryset.count()
        if request.method == "POST" and data.get("confirm"):
            if not data["new_agent"]:
                form.add_error("new_agent", _("Choose the new sales agent."))
            else:
                try:
                    with transaction.atomic():
                        moved = services.restaurants_reassign(
                            by=request.user,
                            restaurants=queryset.select_related("sales_agent"),
                            agent=data["new_agent"],
                        )
                except ValidationError as error:
                    form_errors(form, error)
                else:
                    messages.success(
                        request, _("%(count)d restaurant(s) reassigned.") % {"count": moved}
                    )
                    return redirect(reverse("crm:restaurant_reassign"))
    return render(request, "crm/reassign.html", {"form": form, "matches": matches})


@login_required
@permission_required("crm.view_contact", raise_exception=True)
def contact_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.contact_list(user=request.user, q=request.GET.get("q", "")[:100])
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/contact_list.html", {"page": page, "q": request.GET.get("q", "")})


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    links = ContactLink.objects.filter(
        contact=contact, restaurant__in=Restaurant.objects.visible_to(request.user)
    ).select_related("restaurant")
    return render(request, "crm/contact_detail.html", {"contact": contact, "links": links})


@login_required
@permission_required("crm.add_contact", raise_exception=True)
def contact_create(request: HttpRequest) -> HttpResponse:
    return _contact_form(request, None)


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    if not request.user.has_perm("crm.change_contact"):
        raise PermissionDenied
    return _contact_form(request, contact)


def _contact_form(request: HttpRequest, contact) -> HttpResponse:
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.contact_save(contact=form.instance, by=request.user)
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("crm:contact_detail", pk=saved.pk)
    return render(request, "crm/contact_form.html", {"form": form, "contact": contact})


@login_required
def restaurant_contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    if not (scope.may_edit(request.user, restaurant) and request.user.has_perm("crm.add_contact")):
        raise PermissionDenied
    contacts = selectors.contact_list(user=request.user)
    link_form = ContactLinkForm(request.POST or None, contacts=contacts)
    contact_form = ContactForm(request.POST or None, prefix="new")
    if request.method == "POST" and link_form.is_valid():
        existing = link_form.cleaned_data["existing"]
        role = link_form.cleaned_data["role"]
        try:
            if existing is None:
                if not contact_form.is_valid():
                    raise ValidationError(_("Choose an existing contact or fill in the new one."))
                existing = services.contact_save(contact=contact_form.instance, by=request.user)
            services.contact_link(
                restaurant=restaurant, contact=existing, role=role, by=request.user
            )
        except ValidationError as error:
            form_errors(link_form, error)
        else:
            messages.success(request, _("Contact linked."))
            return redirect("crm:restaurant_detail", pk=pk)
    return render(
        request,
        "crm/contact_link_form.html",
        {
            "restaurant": restaurant,
            "link_form": link_form,
            "contact_form": contact_form,
            "roles": ContactRole.choices,
        },
    )


@login_required
def conversion_signature(request: HttpRequest, pk: int) -> HttpResponse:
    """The signature image, only to those who may see the request (never a public media URL)."""
    conversion = get_object_or_404(ConversionRequest.objects.visible_to(request.user), pk=pk)
    if not conversion.signature:
        raise Http404
    return FileResponse(conversion.signature.open("rb"), content_type="image/png")


@login_required
@require_POST
def restaurant_share(request: HttpRequest, pk: int) -> HttpResponse:
    """Share (or stop sharing, with action=remove) a prospect with a colleague."""
    restaurant = selectors.restaurant_get(user=request.user, pk=pk)
    colleague = (
        services.users_with_role("sales_agent")
        .filter(pk=_int(request.POST.get("colleague")))
        .first()
    )
    if colleague is None:
        messages.error(request, _("Choose a colleague."))
        return redirect("crm:restaurant_detail", pk=pk)
    try:
        if request.POST.get("action") == "remove":
            services.restaurant_unshare(restaurant=restaurant, by=request.user, colleague=colleague)
        else:
            services.restaurant_share(restaurant=restaurant, by=request.user, colleague=colleague)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Sharing updated."))
    return redirect("crm:restaurant_detail", pk=pk)
