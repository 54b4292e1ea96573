from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import LanguageForm, LoginForm, SetPasswordForm
from accounts.models import User

_INVITATION_SESSION_KEY = "_invitation_token"
_INVITATION_URL_TOKEN = "set-password"


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        # A language picked on the login page becomes the account's; otherwise the account's
        # stored choice follows the user to this device.
        if chosen in dict(settings.LANGUAGES):
            services.user_set_language(user=user, language=chosen)
        _set_language_cookie(response, user.language)
        return response


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Axes calls this instead of logging in once too many attempts failed."""
    form = LoginForm(request, data=request.POST or None)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts. For your security, logging in is blocked for "
        "%(minutes)d minutes."
    ) % {"minutes": minutes}
    return render(
        request,
        "accounts/login.html",
        {"form": form, "lockout_message": message},
        status=429,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; stored on the account when logged in."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or request.headers.get("referer") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        _set_language_cookie(response, language)
    return response


def _invited_user(uidb64: str) -> User | None:
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        return User.objects.get(pk=pk, is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None


def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Accept an invitation: choose a password, then land on the dashboard, logged in.

    The token leaves the URL at once (it moves to the session) so it cannot leak through the
    Referer header of the next page.
    """
    user = _invited_user(uidb64)
    if token != _INVITATION_URL_TOKEN:
        if user is not None and services.invitation_tokens.check_token(user, token):
            request.session[_INVITATION_SESSION_KEY] = token
            return redirect("accounts:invitation", uidb64=uidb64, token=_INVITATION_URL_TOKEN)
        return render(request, "accounts/invitation_invalid.html", status=410)
    session_token = request.session.get(_INVITATION_SESSION_KEY, "")
    if user is None or not services.invitation_tokens.check_token(user, session_token):
        return render(request, "accounts/invitation_invalid.html", status=410)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_accept_invitation(user=user, password=form.cleaned_data["password1"])
        del request.session[_INVITATION_SESSION_KEY]
        auth_login(request, user, backend="accounts.backends.RoleBackend")
        response = redirect(reverse("dashboard"))
        _set_language_cookie(response, user.language)
        return response
    return render(request, "accounts/invitation.html", {"form": form, "invited": user})
