"""The social desk's part of /health/: publications stuck past their time mean the worker or
the every-minute job is not running."""

from django.utils.translation import ngettext

from comadvisor.health import Check


def check_publications() -> Check:
    from social.selectors import late_publications

    try:
        late = late_publications().count()
    except Exception as error:  # the database check reports the cause; this one says "unknown"
        return Check(False, type(error).__name__)
    detail = ngettext("%(count)d late publication", "%(count)d late publications", late) % {
        "count": late
    }
    return Check(late == 0, detail)
