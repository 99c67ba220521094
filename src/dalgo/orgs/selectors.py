"""Reads for orgs, memberships, invitations, tokens and the audit log. Every read takes `org=`."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.core.api import OrgAccess
from dalgo.core.errors import NotFound
from dalgo.core.models import AuditEvent
from dalgo.orgs.models import ApiToken, Invitation, Membership, Org
from dalgo.orgs.roles import role_permissions


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("org").order_by("org__name")


def membership_get(*, org: Org, user_id: int) -> Membership:
    membership = Membership.objects.for_org(org).select_related("user").filter(user_id=user_id).first()
    if membership is None:
        raise NotFound("Member not found.")
    return membership


def membership_list(*, org: Org) -> QuerySet[Membership]:
    return Membership.objects.for_org(org).select_related("user").order_by("user__email")


def invitation_list_pending(*, org: Org) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_org(org)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
    )


def invitation_get(*, org: Org, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.for_org(org).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


def invitation_by_token(*, raw_token: str) -> Invitation | None:
    return Invitation.objects.select_related("org", "invited_by").filter(token_hash=token_hash(raw_token)).first()


def api_token_list(*, org: Org, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.for_org(org).filter(user=user, revoked_at__isnull=True)


def api_token_get(*, org: Org, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.for_org(org).filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("Token not found.")
    return token


def audit_event_list(*, org: Org, action: str | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(org=org)
    if action:
        events = events.filter(action__startswith=action)
    return events.order_by("-created_at", "-id")


class OrgsAccessResolver:
    """Registered with core.api at start-up: tokens and memberships -> who may do what where."""

    def user_from_token(self, raw_token: str) -> tuple[User, Org, int] | None:
        token = (
            ApiToken.objects.select_related("user", "org")
            .filter(token_hash=token_hash(raw_token), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token.org, token.pk

    def org_access(self, user: User, org_slug: str) -> OrgAccess | None:
        membership = Membership.objects.select_related("org").filter(user=user, org__slug=org_slug).first()
        if membership is None:
            return None
        return OrgAccess(org=membership.org, role=membership.role, permissions=role_permissions(membership.role))
