"""The access layer every API route goes through.

Each route declares what it needs with `permission=`: `PUBLIC` (anyone), `AUTHENTICATED` (a
signed-in user, no org) or a permission slug such as `"member.invite"` (a member of the org named
by the `X-Dalgo-Org` header, or of the API token's org, whose role grants the slug). The check runs
once per request, before the body is parsed, and leaves a `RequestContext` (read it with `ctx_of`).

Org and token lookups live in the `orgs` app, which registers them here at start-up
(`register_access_resolver`), so this low-level module imports no higher app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja import Router, Schema
from ninja.responses import codes_4xx, codes_5xx

from dalgo.core.errors import NotAuthenticated, NotFound, PermissionDenied, field_error

if TYPE_CHECKING:
    from dalgo.accounts.models import User
    from dalgo.orgs.models import Org

PUBLIC = "public"
AUTHENTICATED = "authenticated"
ORG_HEADER = "X-Dalgo-Org"
PERMISSION_KEY = "x-dalgo-permission"

F = TypeVar("F", bound=Callable[..., Any])


class ErrorOut(Schema):
    """The one error shape: what went wrong, a stable code, the reason per field, and ids of related
    objects (e.g. the sync already running) the client may link to."""

    detail: str
    code: str
    fields: dict[str, str]
    related: dict[str, str] = {}


@dataclass(frozen=True)
class OrgAccess:
    org: Org
    role: str
    permissions: frozenset[str]


@dataclass
class RequestContext:
    user: User | None
    org: Org | None = None
    role: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    token_id: int | None = None

    @property
    def require_user(self) -> User:
        if self.user is None:
            raise NotAuthenticated("Authentication required.")
        return self.user

    @property
    def require_org(self) -> Org:
        if self.org is None:
            raise NotFound("Organisation not found.")
        return self.org


class AccessResolver(Protocol):
    def user_from_token(self, raw_token: str) -> tuple[User, Org, int] | None: ...

    def org_access(self, user: User, org_slug: str) -> OrgAccess | None: ...


_resolver: AccessResolver | None = None


def register_access_resolver(resolver: AccessResolver) -> None:
    global _resolver
    _resolver = resolver


def _get_resolver() -> AccessResolver:
    if _resolver is None:  # pragma: no cover - wired in OrgsConfig.ready()
        raise RuntimeError("No access resolver registered")
    return _resolver


def _csrf_check(request: HttpRequest) -> None:
    def _noop(_request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    failure = CsrfViewMiddleware(_noop).process_view(request, None, (), {})  # type: ignore[arg-type]
    if failure is not None:
        raise PermissionDenied("CSRF check failed: reload the page and try again.", code="csrf_failed")


def resolve_request(request: HttpRequest, permission: str) -> RequestContext:
    """Authenticate, resolve the org and check the permission. Raises 401/403/404 errors."""
    auth_header = request.META.get("HTTP_AUTHORIZATION", "")
    token_org: Org | None = None
    user: User | None = None
    token_id: int | None = None
    if auth_header.lower().startswith("bearer "):
        found = _get_resolver().user_from_token(auth_header[7:].strip())
        if found is None:
            raise NotAuthenticated("The API token is invalid or revoked.", code="invalid_token")
        user, token_org, token_id = found
    else:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _csrf_check(request)
        session_user = getattr(request, "user", None)
        if session_user is not None and session_user.is_authenticated:
            user = session_user

    ctx = RequestContext(user=user, token_id=token_id)
    if permission == PUBLIC:
        return ctx
    if user is None or not user.is_active:
        raise NotAuthenticated("Authentication required: log in or send an API token.")
    if permission == AUTHENTICATED:
        return ctx

    slug = request.headers.get(ORG_HEADER, "").strip()
    if not slug and request.method == "GET":
        # Plain links (file downloads) cannot send headers: GETs may name the org as ?org=<slug>.
        slug = request.GET.get("org", "").strip()
    if token_org is not None:
        if slug and slug != token_org.slug:
            raise NotFound("Organisation not found.", code="org_not_found")
        slug = token_org.slug
    if not slug:
        raise field_error(ORG_HEADER, f"The {ORG_HEADER} header must name an organisation.", code="org_required")
    access = _get_resolver().org_access(user, slug)
    if access is None:
        raise NotFound("Organisation not found.", code="org_not_found")
    ctx.org, ctx.role, ctx.permissions = access.org, access.role, access.permissions
    if permission not in access.permissions:
        raise PermissionDenied(f"Your role ({access.role}) does not allow this ({permission}).")
    return ctx


class PermissionCheck:
    """Ninja auth callable: resolves the request context or raises a 401/403/404 error."""

    def __init__(self, permission: str):
        self.permission = permission

    def __call__(self, request: HttpRequest) -> RequestContext:
        return resolve_request(request, self.permission)


def ctx_of(request: HttpRequest) -> RequestContext:
    """The context the permission check left on the request (ninja stores it as `request.auth`)."""
    ctx: RequestContext = request.auth  # type: ignore[attr-defined]
    return ctx


class DalgoRouter(Router):
    """A ninja Router whose every operation must declare the permission it needs."""

    def _declare(self, methods: list[str], path: str, permission: str, **kwargs: Any) -> Callable[[F], F]:
        if not permission:
            raise ValueError(f"{methods} {path}: every route declares a permission")
        extra = dict(kwargs.pop("openapi_extra", None) or {})
        extra[PERMISSION_KEY] = permission
        # Declare the error shape on every route so clients' generated types include it.
        response = kwargs.pop("response", None)
        responses: dict[Any, Any] = dict(response) if isinstance(response, dict) else {200: response}
        responses.setdefault(codes_4xx, ErrorOut)
        responses.setdefault(codes_5xx, ErrorOut)
        kwargs["response"] = responses

        def decorator(view: F) -> F:
            # Runs as ninja's auth step: before the body is parsed, so 401/403/404 come first.
            self.add_api_operation(path, methods, view, auth=PermissionCheck(permission), openapi_extra=extra, **kwargs)
            return view

        return decorator

    def get(self, path: str, *, permission: str, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._declare(["GET"], path, permission, **kwargs)

    def post(self, path: str, *, permission: str, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._declare(["POST"], path, permission, **kwargs)

    def put(self, path: str, *, permission: str, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._declare(["PUT"], path, permission, **kwargs)

    def patch(self, path: str, *, permission: str, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._declare(["PATCH"], path, permission, **kwargs)

    def delete(self, path: str, *, permission: str, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        return self._declare(["DELETE"], path, permission, **kwargs)
