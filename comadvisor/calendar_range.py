"""The period a calendar widget asks events for (FullCalendar's `start` and `end` parameters),
read once for every calendar of the application (the sales agenda, the posts calendar)."""

import datetime as dt
from collections.abc import Mapping

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The widest view asked for is a month with the days of its first and last weeks.
MAX_RANGE = dt.timedelta(days=62)


def calendar_range(
    query: Mapping[str, str], *, max_range: dt.timedelta = MAX_RANGE
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as aware instants, a time without an offset being in the current time zone.
    A missing or unreadable bound, an end not after the start or a range longer than
    `max_range` is a 404, as for any address that names nothing."""
    bounds = []
    for name in ("start", "end"):
        try:
            moment = parse_datetime(query.get(name) or "")
        except ValueError:  # well-formed but impossible, like a 13th month
            moment = None
        if moment is None:
            raise Http404(f"no readable {name}")
        bounds.append(timezone.make_aware(moment) if timezone.is_naive(moment) else moment)
    start, end = bounds
    if end <= start or end - start > max_range:
        raise Http404("not a calendar's range")
    return start, end
