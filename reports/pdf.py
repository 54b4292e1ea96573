"""PDF documents from Django templates with WeasyPrint (A4 pages, page numbers in the templates'
own @page rules).

Nothing is fetched from the network while rendering: a URL under STATIC_URL is read from the
static files, a data: URL is decoded, anything else is refused. Fonts come from the system
(fontconfig), so the same document renders the same on every machine with the same fonts.
"""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango) are missing."""


def _weasyprint():
    try:
        import weasyprint
    except OSError as error:  # the Python package is there, Pango is not
        raise PdfUnavailable(
            _("PDF rendering needs the Pango library (Debian: libpango-1.0-0 libpangoft2-1.0-0).")
        ) from error
    return weasyprint


def static_path(url: str) -> Path | None:
    """The file behind a /static/... URL, or None."""
    if not url.startswith(settings.STATIC_URL):
        return None
    name = url.removeprefix(settings.STATIC_URL).split("?", 1)[0]
    found = finders.find(name)
    if found:
        return Path(found)
    collected = Path(settings.STATIC_ROOT) / name
    return collected if collected.is_file() else None


# Relative URLs in the templates ("/static/...") resolve against this never-contacted origin.
BASE_URL = "https://documents.invalid/"


def _fetcher():
    weasyprint = _weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFetcher(URLFetcher):
        """Static files and data: URLs only; every other URL is refused, never requested."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = (
                static_path("/" + url.removeprefix(BASE_URL)) if url.startswith(BASE_URL) else None
            )
            if path is None:
                raise ValueError(f"not a static file: {url}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    return weasyprint, StaticFetcher()


def html_to_pdf(html: str) -> bytes:
    weasyprint, fetcher = _fetcher()
    return weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    return html_to_pdf(render_to_string(template_name, context, request=request))
