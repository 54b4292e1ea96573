from django.utils.functional import SimpleLazyObject

from comadvisor.models import SiteSettings
from comadvisor.navigation import navigation_for


def base(request) -> dict:
    user = getattr(request, "user", None)
    return {
        # Lazy: pages that never print the company name do not pay its query.
        "site_settings": SimpleLazyObject(SiteSettings.load),
        "navigation": (
            SimpleLazyObject(lambda: navigation_for(user, request.path))
            if user is not None and user.is_authenticated
            else []
        ),
    }
