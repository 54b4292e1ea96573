"""Due times counted in business hours (the review response target)."""

import datetime as dt
from zoneinfo import ZoneInfo


def add_business_hours(
    start: dt.datetime,
    hours: float,
    *,
    day_start: dt.time,
    day_end: dt.time,
    weekdays: set[int],
    tz: str,
) -> dt.datetime:
    """`start` plus `hours` of working time in time zone `tz`: only the [day_start, day_end)
    window of the given weekdays counts. A review arriving on Friday evening with a 4-hour target
    is due on Monday at day_start + 4 h. Daylight-saving changes are handled by working on local
    wall-clock times and converting each window on its own day."""
    if not weekdays or day_end <= day_start:
        raise ValueError(
            "business hours need at least one weekday and a day that ends after it starts"
        )
    zone = ZoneInfo(tz)
    remaining = dt.timedelta(hours=hours)
    local = start.astimezone(zone)
    day = local.date()
    while True:
        if day.weekday() in weekdays:
            window_start = dt.datetime.combine(day, day_start, tzinfo=zone)
            window_end = dt.datetime.combine(day, day_end, tzinfo=zone)
            begin = max(window_start, local)
            if begin < window_end:
                available = window_end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(dt.UTC)
                remaining -= available
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
