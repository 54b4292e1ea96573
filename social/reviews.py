"""The review queue, a review with its history, replying with saved templates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from comadvisor.connectors import ConnectorError
from crm.views import form_errors
from sales.enums import Network
from sales.models import add_months, parse_month
from social import selectors, services
from social.forms import ReplyForm, this_month
from social.providers import replies_through_api, reviews_note

PAGE_SIZE = 30


@login_required
@permission_required("social.view_review", raise_exception=True)
def review_queue(request: HttpRequest) -> HttpResponse:
    rating = request.GET.get("rating", "")
    restaurant = request.GET.get("restaurant", "")
    filters = selectors.ReviewFilters(
        network=request.GET.get("network", "")
        if request.GET.get("network") in Network.values
        else "",
        rating=int(rating) if rating in ("1", "2", "3", "4", "5") else None,
        restaurant=int(restaurant) if restaurant.isdigit() else None,
        overdue=request.GET.get("overdue") == "1",
        answered=request.GET.get("answered", "")
        if request.GET.get("answered") in ("yes", "no")
        else "",
        negative=request.GET.get("negative") == "1",
        answered_month=parse_month(request.GET.get("answered_month"), None),
        within_target=request.GET.get("within_target") == "1",
    )
    page = Paginator(
        selectors.review_queue(user=request.user, filters=filters), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # What the networks on this page (or the one filtered on, which may show none) allow, so
    # nobody looks for a send button, or for reviews, a platform does not give.
    shown = {review.network for review in page} | ({filters.network} - {""})
    notes = [
        (code, note) for code in Network.values if code in shown and (note := reviews_note(code))
    ]
    month = this_month()
    stats = selectors.response_stats(
        user=request.user, since=add_months(month, -5), until=timezone.localdate()
    )
    return render(
        request,
        "social/review_queue.html",
        {
            "page": page,
            "filters": filters,
            "networks": Network.choices,
            "query": query.urlencode(),
            "now": timezone.now(),
            "overdue_count": selectors.overdue_count(user=request.user),
            "reviews_notes": notes,
            "stats": sorted(stats.items(), key=lambda item: (item[0][1], item[0][0]), reverse=True),
            "network_names": dict(Network.choices),
        },
    )


@login_required
@permission_required("social.view_review", raise_exception=True)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(user=request.user, pk=pk)
    # Not answered yet, or changed on the platform since its answer (a task is open again).
    may_reply = request.user.has_perm("social.reply_review") and not review.is_answered
    form = ReplyForm()
    if request.method == "POST":
        if not request.user.has_perm("social.reply_review"):
            return redirect("social:review_detail", pk=review.pk)
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                if request.POST.get("action") == "answered":
                    services.review_mark_answered(
                        review=review, by=request.user, text=form.cleaned_data["text"]
                    )
                    messages.success(request, _("The review is marked as answered."))
                else:
                    services.review_reply(
                        review=review, by=request.user, text=form.cleaned_data["text"]
                    )
                    messages.success(request, _("The reply is published."))
            except ValidationError as error:
                form_errors(form, error)
            except ConnectorError as error:
                form.add_error(
                    None,
                    _("The reply was not published. %(error)s Your text is kept below.")
                    % {"error": services.error_text(error)},
                )
            else:
                return redirect("social:review_detail", pk=review.pk)
    return render(
        request,
        "social/review_detail.html",
        {
            "review": review,
            "tasks": selectors.review_tasks(review=review),
            "history": selectors.review_history(review=review),
            "form": form,
            "may_reply": may_reply,
            "can_send": replies_through_api(review.network),
            "reviews_note": reviews_note(review.network),
            "templates": selectors.reply_templates(
                review=review, signature=request.user.get_display_name(), language=get_language()
            ),
            "now": timezone.now(),
        },
    )
