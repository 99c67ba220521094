"""Serves the built single-page UI (built by `make ui` into web/static/ui, git-ignored)."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie

UI_DIR = Path(__file__).parent / "static" / "ui"


@ensure_csrf_cookie
def spa(request: HttpRequest) -> HttpResponse:
    index = UI_DIR / "index.html"
    if not index.exists():
        return HttpResponse("<h1>Dalgo</h1><p>The UI is not built. Run <code>make ui</code>.</p>", status=503)
    response = HttpResponse(index.read_text(), content_type="text/html")
    response["Cache-Control"] = "no-cache"
    return response


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown API paths answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        {"detail": "No such API endpoint.", "code": "not_found", "fields": {}, "related": {}}, status=404
    )
