"""Domain errors. Each maps to one JSON shape: {"detail", "code", "fields"} with a 4xx status."""

from __future__ import annotations


class DalgoError(Exception):
    status: int = 400
    code: str = "invalid"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        related: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.fields = fields or {}
        self.related = related or {}  # ids the client may link to, e.g. {"run_id": ...} of the running sync

    def as_body(self) -> dict[str, object]:
        return {"detail": self.detail, "code": self.code, "fields": self.fields, "related": self.related}


class ValidationFailed(DalgoError):
    status = 400
    code = "invalid"


class NotAuthenticated(DalgoError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(DalgoError):
    status = 403
    code = "permission_denied"


class NotFound(DalgoError):
    status = 404
    code = "not_found"


class Conflict(DalgoError):
    status = 409
    code = "conflict"


class Gone(DalgoError):
    status = 410
    code = "gone"


class RateLimited(DalgoError):
    status = 429
    code = "rate_limited"


class ServiceUnavailable(DalgoError):
    status = 503
    code = "unavailable"


def field_error(field: str, reason: str, *, code: str = "invalid") -> ValidationFailed:
    """The common case: one field is wrong, say which and why."""
    return ValidationFailed(reason, code=code, fields={field: reason})
