"""Recording audit events. Called by services inside their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from dalgo.core.models import AuditEvent

if TYPE_CHECKING:
    from dalgo.accounts.models import User
    from dalgo.orgs.models import Org


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: User | None,
    org: Org | None = None,
    target_type: str = "",
    target_id: object = "",
    target_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        org=org,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id != "" else "",
        target_label=target_label[:255],
        before=before,
        after=after,
        ip=ip,
    )
