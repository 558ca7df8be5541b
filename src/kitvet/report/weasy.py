"""HTML to PDF without a browser (WeasyPrint): what a server renders on a schedule.

The page must be self-contained: nothing is fetched (any URL it names is refused), so a
hostile name in a report can never make the renderer reach out.
"""

from __future__ import annotations

import logging
from typing import Any

from kitvet.errors import ReportError

logger = logging.getLogger(__name__)


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"reports fetch nothing (refused {url[:80]!r})")


def _fetcher(weasyprint: Any) -> Any:
    """A URL fetcher that fetches nothing but ``data:`` URLs."""
    cls = getattr(weasyprint.urls, "URLFetcher", None)
    if cls is None:  # WeasyPrint before 68 takes a function
        return _no_fetch
    return cls(allowed_protocols=("data",), allow_redirects=False)


def html_to_pdf(html: str, *, attachments: list[tuple[bytes, str]] | None = None) -> bytes:
    """``html`` (a self-contained page) as a PDF document; ``attachments``: (data, file name)
    embedded as PDF attachments."""
    try:
        import weasyprint
    except (ImportError, OSError) as e:  # OSError: Pango is missing
        raise ReportError("PDF rendering needs WeasyPrint and Pango (Debian: libpango-1.0-0 "
                          f"libpangoft2-1.0-0): {e}") from e
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import io

    import weasyprint.urls

    files = [weasyprint.Attachment(file_obj=io.BytesIO(data), name=name)
             for data, name in attachments or []]
    try:
        doc = weasyprint.HTML(string=html, url_fetcher=_fetcher(weasyprint),
                              base_url="about:blank")
        pdf: bytes = doc.write_pdf(attachments=files or None)
    except Exception as e:  # a renderer error is one clear line
        raise ReportError(f"the PDF could not be rendered: {e}") from e
    return pdf
