"""The JSON API: one NinjaAPI, one router per app, one error shape for every 4xx."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dalgo import __version__
from dalgo.accounts.api import router as accounts_router
from dalgo.core.errors import DalgoError
from dalgo.ingestion.api import router as ingestion_router
from dalgo.orgs.api import router as orgs_router
from dalgo.system.api import router as system_router
from dalgo.warehouses.api import router as warehouses_router

log = logging.getLogger("dalgo.api")

api = NinjaAPI(
    title="Dalgo API",
    version=__version__,
    description="Every org-scoped route needs the X-Dalgo-Org header (or an API token, which names its org).",
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)
api.add_router("/auth", accounts_router)
api.add_router("/", orgs_router)
api.add_router("/system", system_router)
api.add_router("/", warehouses_router)
api.add_router("/", ingestion_router)


def _error(
    request: HttpRequest,
    status: int,
    detail: str,
    code: str,
    fields: dict[str, str] | None = None,
    related: dict[str, str] | None = None,
) -> HttpResponse:
    body = {"detail": detail, "code": code, "fields": fields or {}, "related": related or {}}
    return api.create_response(request, body, status=status)


def _field_name(loc: list[Any]) -> str:
    parts = [str(p) for p in loc]
    while parts and parts[0] in {"body", "query", "path", "header", "cookie", "payload"}:
        parts.pop(0)
    return ".".join(parts) or "body"


@api.exception_handler(DalgoError)
def _dalgo_error(request: HttpRequest, exc: DalgoError) -> HttpResponse:
    return _error(request, exc.status, exc.detail, exc.code, exc.fields, exc.related)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        name = _field_name(list(err.get("loc", [])))
        msg = str(err.get("msg", "Invalid value"))
        if err.get("type") == "missing":
            msg = "This field is required."
        fields.setdefault(name, msg)
    summary = "; ".join(f"{k}: {v}" for k, v in fields.items())
    return _error(request, 422, f"Invalid input ({summary}).", "invalid", fields)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "Authentication required.", "not_authenticated")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return _error(
            request, 400, "The request body is not valid JSON.", "malformed_json", {"body": "Not valid JSON."}
        )
    return _error(request, exc.status_code, str(exc.message), "error")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.", "not_found")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error(request, 500, "Something went wrong on our side. It has been logged.", "server_error")
