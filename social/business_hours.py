"""Due times counted in business hours (the review response target)."""

import datetime as dt
import math
from zoneinfo import ZoneInfo

WEEKDAYS = range(7)  # Monday = 0, as date.weekday()


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
    wall-clock times and converting each window on its own day.

    It always ends, whatever the settings hold: weekdays outside 0-6 are ignored, a negative
    target counts as none, whole weeks are skipped by arithmetic rather than walked day by day,
    and settings that cannot give a due time (no weekday, a day that does not end after it
    starts, a target no calendar can hold) raise ValueError instead of looping."""
    days = {day for day in weekdays if isinstance(day, int) and day in WEEKDAYS}
    if not days or day_end <= day_start:
        raise ValueError(
            "business hours need at least one weekday (0-6) and a day that ends after it starts"
        )
    if not math.isfinite(hours):
        raise ValueError(f"the response target must be a number of hours, not {hours}")
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    day = local.date()
    try:
        remaining = dt.timedelta(hours=max(hours, 0))
        # Aware datetimes sharing one tzinfo subtract as wall-clock times, so every window lasts
        # day_end - day_start, and a week from a midnight holds exactly `week` of working time.
        window = dt.datetime.combine(day, day_end) - dt.datetime.combine(day, day_start)
        week = window * len(days)
        walked = 0
        while True:
            if day.weekday() in days:
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
            walked += 1
            if walked == 7 and remaining > week:
                # From this midnight, skip the whole weeks the target still spans, leaving some
                # time (at most a week's) to place in the loop: the result is what walking them
                # would give, since no window inside them could hold the rest.
                weeks = (remaining - dt.timedelta(microseconds=1)) // week
                remaining -= week * weeks
                day += dt.timedelta(weeks=weeks)
                local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    except OverflowError as error:
        raise ValueError(
            "the response target lies beyond any date these hours can reach"
        ) from error
