"""Sign-up, the current user, orgs, members, invitations, API tokens and the audit log."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from ninja import Query, Schema, Status

from dalgo.accounts import services as account_services
from dalgo.accounts.models import User
from dalgo.core.api import AUTHENTICATED, PUBLIC, DalgoRouter, ctx_of
from dalgo.core.errors import PermissionDenied
from dalgo.orgs import selectors, services
from dalgo.orgs.models import ApiToken, Invitation, Membership, Org
from dalgo.orgs.roles import PERMISSIONS, ROLE_ORDER, role_permissions

router = DalgoRouter(tags=["orgs"])


# ---- schemas ---------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    email: str
    name: str
    email_verified: bool
    is_platform_admin: bool


class OrgOut(Schema):
    slug: str
    name: str
    role: str
    permissions: list[str]


class MeOut(Schema):
    user: UserOut
    orgs: list[OrgOut]
    last_org: str | None


class MeUpdateIn(Schema):
    name: str


class InvitationAcceptedOut(MeOut):
    joined_org: str


class ConfigOut(Schema):
    signup_enabled: bool
    signup_creates_orgs: bool
    roles: list[str]
    permissions: dict[str, str]
    version: str
    custom_connectors: bool  # org admins may add custom connectors (DALGO_CUSTOM_CONNECTORS)


class SignupIn(Schema):
    email: str
    password: str
    name: str = ""
    org_name: str | None = None


class OrgCreateIn(Schema):
    name: str


class MemberOut(Schema):
    user_id: int
    email: str
    name: str
    role: str
    joined_at: datetime


class RoleIn(Schema):
    role: str


class InvitationIn(Schema):
    email: str
    role: str


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    last_sent_at: datetime
    sent_count: int
    expired: bool


class InvitationPublicOut(Schema):
    org_name: str
    email: str
    role: str
    invited_by: str | None
    user_exists: bool
    expires_at: datetime


class InvitationAcceptIn(Schema):
    name: str = ""
    password: str | None = None


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class AuditEventOut(Schema):
    id: int
    action: str
    actor_email: str
    target_type: str
    target_id: str
    target_label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    created_at: datetime


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    total: int


class PageQuery(Schema):
    limit: int = 50
    offset: int = 0
    action: str | None = None


# ---- helpers ---------------------------------------------------------------------------------


def _me(user: User) -> MeOut:
    memberships = list(selectors.membership_list_for_user(user=user))
    orgs = [
        OrgOut(slug=m.org.slug, name=m.org.name, role=m.role, permissions=sorted(role_permissions(m.role)))
        for m in memberships
    ]
    slugs = {o.slug for o in orgs}
    last = user.last_org_slug if user.last_org_slug in slugs else (orgs[0].slug if orgs else None)
    return MeOut(
        user=UserOut(
            id=user.pk,
            email=user.email,
            name=user.name,
            email_verified=user.email_verified_at is not None,
            is_platform_admin=user.is_staff,
        ),
        orgs=orgs,
        last_org=last,
    )


def _member_out(m: Membership) -> MemberOut:
    return MemberOut(user_id=m.user_id, email=m.user.email, name=m.user.name, role=m.role, joined_at=m.created_at)


def _invitation_out(i: Invitation) -> InvitationOut:
    from django.utils import timezone

    return InvitationOut(
        id=i.pk,
        email=i.email,
        role=i.role,
        invited_by=i.invited_by.email if i.invited_by else None,
        created_at=i.created_at,
        expires_at=i.expires_at,
        last_sent_at=i.last_sent_at,
        sent_count=i.sent_count,
        expired=i.expires_at <= timezone.now(),
    )


def _token_out(t: ApiToken) -> TokenOut:
    return TokenOut(id=t.pk, name=t.name, prefix=t.prefix, created_at=t.created_at, last_used_at=t.last_used_at)


def _org_out(org: Org, role: str) -> OrgOut:
    return OrgOut(slug=org.slug, name=org.name, role=role, permissions=sorted(role_permissions(role)))


# ---- account-level ---------------------------------------------------------------------------


@router.get("/config", permission=PUBLIC, response=ConfigOut)
def config(request: HttpRequest) -> ConfigOut:
    from dalgo import __version__

    return ConfigOut(
        signup_enabled=settings.DALGO_ALLOW_SIGNUP,
        signup_creates_orgs=settings.DALGO_SIGNUP_CREATES_ORGS,
        roles=[r.value for r in ROLE_ORDER],
        permissions=PERMISSIONS,
        version=__version__,
        custom_connectors=settings.DALGO_CUSTOM_CONNECTORS,
    )


@router.post("/auth/signup", permission=PUBLIC, response={201: MeOut})
def signup(request: HttpRequest, payload: SignupIn) -> Status[MeOut]:
    user, _org = services.signup(
        email=payload.email, password=payload.password, name=payload.name, org_name=payload.org_name
    )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return Status(201, _me(user))


@router.get("/me", permission=AUTHENTICATED, response=MeOut)
def me(request: HttpRequest) -> MeOut:
    return _me(ctx_of(request).require_user)


@router.patch("/me", permission=AUTHENTICATED, response=MeOut)
def me_update(request: HttpRequest, payload: MeUpdateIn) -> MeOut:
    user = account_services.user_profile_update(user=ctx_of(request).require_user, name=payload.name)
    return _me(user)


@router.post("/orgs", permission=AUTHENTICATED, response={201: OrgOut})
def org_create(request: HttpRequest, payload: OrgCreateIn) -> Status[OrgOut]:
    user = ctx_of(request).require_user
    if not (settings.DALGO_SIGNUP_CREATES_ORGS or user.is_staff):
        raise PermissionDenied("Only platform operators can create organisations here.", code="org_creation_closed")
    org = services.org_create(name=payload.name, creator=user)
    return Status(201, _org_out(org, "super-admin"))


# ---- org-scoped ------------------------------------------------------------------------------


@router.get("/org", permission="org.view", response=OrgOut)
def org_current(request: HttpRequest) -> OrgOut:
    """The org named by X-Dalgo-Org, with the caller's role; remembered as their last org."""
    ctx = ctx_of(request)
    services.user_org_remember(user=ctx.require_user, org=ctx.require_org)
    return OrgOut(
        slug=ctx.require_org.slug, name=ctx.require_org.name, role=ctx.role or "", permissions=sorted(ctx.permissions)
    )


@router.get("/org/members", permission="member.view", response=list[MemberOut])
def member_list(request: HttpRequest) -> list[MemberOut]:
    return [_member_out(m) for m in selectors.membership_list(org=ctx_of(request).require_org)]


@router.patch("/org/members/{user_id}", permission="member.manage", response=MemberOut)
def member_role_change(request: HttpRequest, user_id: int, payload: RoleIn) -> MemberOut:
    ctx = ctx_of(request)
    membership = services.member_role_change(
        org=ctx.require_org, actor=ctx.require_user, actor_role=ctx.role or "", user_id=user_id, role=payload.role
    )
    return _member_out(membership)


@router.delete("/org/members/{user_id}", permission="member.manage", response={204: None})
def member_remove(request: HttpRequest, user_id: int) -> Status[None]:
    ctx = ctx_of(request)
    services.member_remove(org=ctx.require_org, actor=ctx.require_user, actor_role=ctx.role or "", user_id=user_id)
    return Status(204, None)


@router.get("/org/invitations", permission="member.view", response=list[InvitationOut])
def invitation_list(request: HttpRequest) -> list[InvitationOut]:
    return [_invitation_out(i) for i in selectors.invitation_list_pending(org=ctx_of(request).require_org)]


@router.post("/org/invitations", permission="member.invite", response={201: InvitationOut})
def invitation_create(request: HttpRequest, payload: InvitationIn) -> Status[InvitationOut]:
    ctx = ctx_of(request)
    invitation = services.invitation_create(
        org=ctx.require_org, actor=ctx.require_user, actor_role=ctx.role or "", email=payload.email, role=payload.role
    )
    return Status(201, _invitation_out(invitation))


@router.post("/org/invitations/{invitation_id}/resend", permission="member.invite", response=InvitationOut)
def invitation_resend(request: HttpRequest, invitation_id: int) -> InvitationOut:
    ctx = ctx_of(request)
    invitation = services.invitation_resend(org=ctx.require_org, actor=ctx.require_user, invitation_id=invitation_id)
    return _invitation_out(invitation)


@router.delete("/org/invitations/{invitation_id}", permission="member.invite", response={204: None})
def invitation_revoke(request: HttpRequest, invitation_id: int) -> Status[None]:
    ctx = ctx_of(request)
    services.invitation_revoke(org=ctx.require_org, actor=ctx.require_user, invitation_id=invitation_id)
    return Status(204, None)


@router.get("/invitations/{token}", permission=PUBLIC, response=InvitationPublicOut)
def invitation_show(request: HttpRequest, token: str) -> InvitationPublicOut:
    """What an invitation link offers, for the accept page (no login needed)."""
    invitation = services.invitation_check(raw_token=token)
    return InvitationPublicOut(
        org_name=invitation.org.name,
        email=invitation.email,
        role=invitation.role,
        invited_by=invitation.invited_by.display_name if invitation.invited_by else None,
        user_exists=User.objects.filter(email=invitation.email).exists(),
        expires_at=invitation.expires_at,
    )


@router.post("/invitations/{token}/accept", permission=PUBLIC, response=InvitationAcceptedOut)
def invitation_accept(request: HttpRequest, token: str, payload: InvitationAcceptIn) -> InvitationAcceptedOut:
    ctx = ctx_of(request)
    user, membership = services.invitation_accept(
        raw_token=token, current_user=ctx.user, name=payload.name, password=payload.password
    )
    if ctx.user is None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return InvitationAcceptedOut(**_me(user).dict(), joined_org=membership.org.slug)


@router.get("/tokens", permission="token.manage", response=list[TokenOut])
def token_list(request: HttpRequest) -> list[TokenOut]:
    ctx = ctx_of(request)
    return [_token_out(t) for t in selectors.api_token_list(org=ctx.require_org, user=ctx.require_user)]


@router.post("/tokens", permission="token.manage", response={201: TokenCreatedOut})
def token_create(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    ctx = ctx_of(request)
    token, raw = services.api_token_create(org=ctx.require_org, user=ctx.require_user, name=payload.name)
    return Status(201, TokenCreatedOut(**_token_out(token).dict(), token=raw))


@router.delete("/tokens/{token_id}", permission="token.manage", response={204: None})
def token_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    ctx = ctx_of(request)
    services.api_token_revoke(org=ctx.require_org, user=ctx.require_user, token_id=token_id)
    return Status(204, None)


@router.get("/audit", permission="audit.view", response=AuditPageOut)
def audit_list(request: HttpRequest, query: Query[PageQuery]) -> AuditPageOut:
    events = selectors.audit_event_list(org=ctx_of(request).require_org, action=query.action)
    limit = max(1, min(query.limit, 200))
    offset = max(0, query.offset)
    items = [AuditEventOut.from_orm(e) for e in events[offset : offset + limit]]
    return AuditPageOut(items=items, total=events.count())
