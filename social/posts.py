"""Posts: the list and calendar, composing with each network's preview and limits, scheduling in
the restaurant's time zone, publishing now, retrying a failed publication."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.enums import RoleName
from accounts.models import User
from comadvisor.calendar_range import calendar_range
from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.views import form_errors
from social import selectors, services
from social.enums import PostStatus, PublicationState
from social.forms import PostForm
from social.models import PostImage
from social.posting import LIMITS, ImageInfo, limit_rules, post_problems

PAGE_SIZE = 30


def parse_date_or_none(value) -> dt.date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _managers(user: User):
    if not user.has_perm("crm.view_all_restaurants"):
        return []
    return crm_services.users_with_role(RoleName.COMMUNITY_MANAGER)


@login_required
@permission_required("social.view_post", raise_exception=True)
def post_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.PostFilters(
        restaurant=_int(request.GET.get("restaurant")),
        status=request.GET.get("status", "")
        if request.GET.get("status") in PostStatus.values
        else "",
        manager=_int(request.GET.get("manager")),
    )
    page = Paginator(selectors.post_list(user=request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    restaurant = (
        crm_selectors.restaurant_get(user=request.user, pk=filters.restaurant)
        if filters.restaurant
        else None
    )
    return render(
        request,
        "social/post_list.html",
        {
            "page": page,
            "filters": filters,
            "restaurant": restaurant,
            "statuses": PostStatus.choices,
            "managers": _managers(request.user),
            "query": query.urlencode(),
            "may_post": request.user.has_perm("social.manage_post"),
        },
    )


@login_required
@permission_required("social.view_post", raise_exception=True)
def post_calendar(request: HttpRequest) -> HttpResponse:
    restaurant_pk = _int(request.GET.get("restaurant"))
    return render(
        request,
        "social/post_calendar.html",
        {
            "restaurant": crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
            if restaurant_pk
            else None,
            "manager": _int(request.GET.get("manager")),
            "managers": _managers(request.user),
        },
    )


@login_required
@permission_required("social.view_post", raise_exception=True)
def post_events(request: HttpRequest) -> JsonResponse:
    """The calendar's posts between two instants: {"events": [...], "more": whether some were
    left out (then "notice" says how to see them)}. A bad range is a 404, as for the agenda, and
    so is a restaurant outside the reader's scope, as for the calendar's page."""
    start, end = calendar_range(request.GET)
    restaurant_pk = _int(request.GET.get("restaurant"))
    if restaurant_pk:
        crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    posts, more = selectors.post_calendar_events(
        user=request.user,
        start=start,
        end=end,
        restaurant=restaurant_pk,
        manager=_int(request.GET.get("manager")),
    )
    events = []
    # One reverse() for all the links: a month of a busy desk is a couple of thousand posts.
    edit_url = reverse("social:post_edit", args=[0]).replace("/0/", "/{}/")
    for post in posts:
        if post.failed:
            colour = "#dc3545"
        elif post.published == post.targets and post.targets:
            colour = "#198754"
        elif post.status == PostStatus.DRAFT:
            colour = "#6c757d"
        else:
            colour = "#1f4e79"
        title = f"{post.restaurant_name}: {post}"
        if post.demo:
            title = f"{title} ({_('demo data')})"
        events.append(
            {
                "id": post.pk,
                "title": title,
                "start": post.scheduled_at.isoformat(),
                "url": edit_url.format(post.pk),
                "color": colour,
            }
        )
    notice = ""
    if more:
        notice = _(
            "Only the first %(count)d posts of this period are shown: choose a restaurant or a "
            "community manager."
        ) % {"count": len(events)}
    return JsonResponse({"events": events, "more": more, "notice": notice})


def _image_infos(post, uploads, removed: set[str]) -> list[ImageInfo]:
    """The post's kept images, then the readable new uploads (an unreadable one is reported
    when the form is saved)."""
    infos = []
    if post is not None:
        infos = [image.info for image in post.images.all() if str(image.pk) not in removed]
    for upload in uploads:
        try:
            infos.append(services.image_info(upload))
        except ValidationError:
            continue
    return infos


def _target_month(restaurant, post, day: dt.date | None = None) -> dt.date:
    """The month a post counts in: the day chosen in the form, else its schedule, else today,
    in the restaurant's time zone."""
    if day is None:
        moment = post.scheduled_at if post and post.scheduled_at else timezone.now()
        day = timezone.localtime(moment, ZoneInfo(restaurant.time_zone)).date()
    return day.replace(day=1)


def _quota_context(restaurant, post, day: dt.date | None = None) -> dict:
    month = _target_month(restaurant, post, day)
    today = timezone.localtime(timezone.now(), ZoneInfo(restaurant.time_zone)).date()
    return {
        "quota": selectors.posts_quota(
            restaurant=restaurant, month=month, exclude_post=post.pk if post else None
        ),
        "quota_month": month,
        "quota_this_month": month == today.replace(day=1),
    }


def _over_quota(restaurant, post, data: dict) -> str:
    """The warning to confirm when scheduling (or publishing now) goes over the contract's posts
    per month of the post's month; "" when within it or confirmed."""
    if data["action"] not in ("schedule", "now") or data.get("over_quota"):
        return ""
    day = data.get("day") if data["action"] == "schedule" else None
    if data["action"] == "now":
        day = timezone.localtime(timezone.now(), ZoneInfo(restaurant.time_zone)).date()
    context = _quota_context(restaurant, post, day)
    quota = context["quota"]
    if quota.allowed is None or quota.used < quota.allowed:
        return ""
    return _(
        "%(month)s already has %(used)d posts planned or published for %(allowed)d included in "
        "the contract. Tick the box below to go over it for this post."
    ) % {
        "month": date_format(context["quota_month"], "F Y"),
        "used": quota.used,
        "allowed": quota.allowed,
    }


def _compose_context(request, *, restaurant, post, form, ask_over_quota=False) -> dict:
    day = form.cleaned_data.get("day") if form.is_bound and hasattr(form, "cleaned_data") else None
    return {
        "restaurant": restaurant,
        "post": post,
        "form": form,
        "publications": selectors.post_publications(post=post) if post else [],
        "images": [(image, services.public_image_path(image)) for image in post.images.all()]
        if post
        else [],
        **_quota_context(restaurant, post, day),
        "ask_over_quota": ask_over_quota,
        "time_zone": restaurant.time_zone,
        "editable": post is None
        or not post.publications.filter(state=PublicationState.PUBLISHING).exists(),
    }


@login_required
@permission_required("social.manage_post", raise_exception=True)
def post_create(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    return _compose(request, restaurant=restaurant, post=None)


@login_required
@permission_required("social.view_post", raise_exception=True)
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post = selectors.post_get(user=request.user, pk=pk)
    if request.method == "POST" and not request.user.has_perm("social.manage_post"):
        raise Http404
    return _compose(request, restaurant=post.restaurant, post=post)


def _initial(post) -> dict:
    if post is None:
        return {"action": "draft"}
    local = (
        timezone.localtime(post.scheduled_at, ZoneInfo(post.time_zone))
        if post.scheduled_at
        else None
    )
    return {
        "text": post.text,
        "link": post.link,
        "accounts": [str(pk) for pk in post.publications.values_list("account_id", flat=True)],
        "day": local.date() if local else None,
        "time": local.time().replace(second=0, microsecond=0) if local else None,
        "action": "schedule" if post.status == PostStatus.SCHEDULED else "draft",
    }


def _compose(request: HttpRequest, *, restaurant, post) -> HttpResponse:
    accounts = selectors.publishable_accounts(restaurant=restaurant)
    images = list(post.images.all()) if post else []
    ask_over_quota = False
    if request.method == "POST":
        form = PostForm(request.POST, request.FILES, accounts=accounts, images=images)
        warning = _over_quota(restaurant, post, form.cleaned_data) if form.is_valid() else ""
        if warning:
            # Warned before going over: nothing is saved until the box is ticked.
            form.add_error(None, warning)
            ask_over_quota = True
        elif form.is_valid():
            data = form.cleaned_data
            try:
                post = services.post_save(
                    by=request.user,
                    restaurant=restaurant,
                    accounts=form.chosen_accounts(),
                    text=data["text"],
                    link=data["link"],
                    new_images=data["images"],
                    remove_image_ids=[int(pk) for pk in data["remove_images"]],
                    post=post,
                )
                if data["action"] == "schedule":
                    at = services.local_moment(
                        day=data["day"], time=data["time"], tz_name=restaurant.time_zone
                    )
                    services.post_schedule(post=post, by=request.user, at=at)
                    messages.success(request, _("The post is scheduled."))
                elif data["action"] == "now":
                    services.post_publish_now(post=post, by=request.user)
                    messages.success(request, _("The post is being published."))
                else:
                    if post.status == PostStatus.SCHEDULED:
                        services.post_unschedule(post=post, by=request.user)
                    messages.success(request, _("The draft is saved."))
            except ValidationError as error:
                form_errors(form, error)
            else:
                return redirect("social:post_edit", pk=post.pk)
        if post is not None and post.pk:
            # A failed schedule after a successful save: show the saved post with the error.
            form.fields["remove_images"].choices = [
                (str(image.pk), image.pk) for image in post.images.all()
            ]
    else:
        form = PostForm(initial=_initial(post), accounts=accounts, images=images)
    return render(
        request,
        "social/post_form.html",
        _compose_context(
            request, restaurant=restaurant, post=post, form=form, ask_over_quota=ask_over_quota
        ),
    )


@login_required
@permission_required("social.manage_post", raise_exception=True)
@require_POST
def post_preview(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """htmx: how the post looks on each chosen network, and what each would refuse."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    post = None
    if _int(request.POST.get("post")):
        post = selectors.post_get(user=request.user, pk=int(request.POST["post"]))
        if post.restaurant_id != restaurant.pk:
            raise Http404
    accounts = {
        str(account.pk): account
        for account in selectors.publishable_accounts(restaurant=restaurant)
    }
    chosen = [accounts[key] for key in request.POST.getlist("accounts") if key in accounts]
    text = request.POST.get("text", "")
    link = request.POST.get("link", "")
    infos = _image_infos(
        post, request.FILES.getlist("images"), set(request.POST.getlist("remove_images"))
    )
    previews = []
    for account in chosen:
        errors, warnings = post_problems(
            network=account.network, text=text, link=link, images=infos
        )
        limits = LIMITS[account.network]
        previews.append(
            {
                "account": account,
                "errors": errors,
                "warnings": warnings,
                "length": len(text),
                "max_text": limits.max_text,
                "images": min(len(infos), limits.max_images),
                "rules": limit_rules(account.network),
            }
        )
    return render(
        request,
        "social/partials/post_preview.html",
        {
            "previews": previews,
            "text": text,
            "link": link,
            "restaurant": restaurant,
            # The posts per month of the month of the day being chosen.
            **_quota_context(restaurant, post, parse_date_or_none(request.POST.get("day"))),
        },
    )


@login_required
@permission_required("social.manage_post", raise_exception=True)
@require_POST
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    post = selectors.post_get(user=request.user, pk=pk)
    try:
        services.post_delete(post=post, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("social:post_edit", pk=post.pk)
    messages.success(request, _("The post is deleted."))
    return redirect(f"{reverse('social:post_list')}?restaurant={post.restaurant_id}")


@login_required
@permission_required("social.manage_post", raise_exception=True)
@require_POST
def publication_retry(request: HttpRequest, pk: int) -> HttpResponse:
    publication = selectors.publication_get(user=request.user, pk=pk)
    try:
        services.publication_retry(publication=publication, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The publication is queued again."))
    return redirect("social:post_edit", pk=publication.post_id)


def post_image(request: HttpRequest, pk: int, token: str) -> FileResponse:
    """A post's image for the platforms that fetch media themselves (no session): the signed
    token is the only key."""
    try:
        signed = signing.loads(token, salt="post-image")
    except signing.BadSignature as error:
        raise Http404 from error
    if signed != pk:
        raise Http404
    image = get_object_or_404(PostImage, pk=pk)
    return FileResponse(image.image.open("rb"))
