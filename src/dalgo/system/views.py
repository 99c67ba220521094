"""Public health endpoint for load balancers and operators."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from dalgo.system.health import components_health, overall_status


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    components = components_health()
    status = overall_status(components)
    return JsonResponse({"status": status, "components": components}, status=200 if status == "ok" else 503)
