"""Writes for orgs: creation, invitations, roles, membership removal, API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from dalgo.accounts import services as account_services
from dalgo.accounts.models import User
from dalgo.core.audit import audit_record
from dalgo.core.errors import Conflict, Gone, NotAuthenticated, NotFound, PermissionDenied, field_error
from dalgo.core.mail import email_send_on_commit
from dalgo.orgs.models import ApiToken, Invitation, Membership, Org
from dalgo.orgs.roles import ADMIN_ROLES, Role, role_may_grant
from dalgo.orgs.selectors import invitation_by_token, token_hash

TOKEN_PREFIX = "dalgo_"


def _role_parse(role: str, *, field: str = "role") -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise field_error(field, f"Unknown role {role!r}: choose one of {choices}.") from None


def _unique_slug(name: str) -> str:
    base = slugify(name)[:48] or "org"
    slug, n = base, 1
    while Org.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def org_create(*, name: str, creator: User) -> Org:
    name = (name or "").strip()
    if not name:
        raise field_error("name", "Give the organisation a name.")
    if len(name) > 120:
        raise field_error("name", "The name is longer than 120 characters.")
    org = Org.objects.create(name=name, slug=_unique_slug(name))
    Membership.objects.create(org=org, user=creator, role=Role.SUPER_ADMIN)
    creator.last_org_slug = org.slug
    creator.save(update_fields=["last_org_slug"])
    audit_record(
        action="org.create",
        actor=creator,
        org=org,
        target_type="org",
        target_id=org.pk,
        target_label=org.name,
        after={"name": org.name, "slug": org.slug},
    )
    return org


@transaction.atomic
def signup(*, email: str, password: str, name: str, org_name: str | None) -> tuple[User, Org | None]:
    if not settings.DALGO_ALLOW_SIGNUP:
        raise PermissionDenied("Sign-up is closed on this server: ask for an invitation.", code="signup_closed")
    if org_name and not settings.DALGO_SIGNUP_CREATES_ORGS:
        raise field_error(
            "org_name", "This server does not let sign-up create organisations.", code="org_creation_closed"
        )
    user = account_services.user_create(email=email, password=password, name=name)
    org = org_create(name=org_name, creator=user) if org_name else None
    return user, org


def user_org_remember(*, user: User, org: Org) -> None:
    if user.last_org_slug != org.slug:
        user.last_org_slug = org.slug
        user.save(update_fields=["last_org_slug"])


def _invitation_email(*, invitation: Invitation, raw_token: str, inviter: User) -> None:
    link = f"{settings.DALGO_BASE_URL}/invite/{raw_token}"
    email_send_on_commit(
        to=invitation.email,
        subject=f"{inviter.display_name} invited you to {invitation.org.name} on Dalgo",
        body=(
            f"Hello,\n\n{inviter.display_name} ({inviter.email}) invited you to join {invitation.org.name} "
            f"on Dalgo as {Role(invitation.role).label.lower()}.\n\nAccept the invitation here "
            f"(valid for {settings.DALGO_INVITATION_DAYS} days):\n{link}\n"
        ),
    )


def _new_invitation_token(invitation: Invitation) -> str:
    raw = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(raw)
    now = timezone.now()
    invitation.last_sent_at = now
    invitation.expires_at = now + timedelta(days=settings.DALGO_INVITATION_DAYS)
    return raw


@transaction.atomic
def invitation_create(*, org: Org, actor: User, actor_role: str, email: str, role: str) -> Invitation:
    email = account_services.email_normalize(email=email)
    wanted = _role_parse(role)
    if not role_may_grant(granter=actor_role, role=wanted):
        raise PermissionDenied(
            "You cannot invite someone with a role above your own.",
            code="role_escalation",
            fields={"role": "Above your own role."},
        )
    if Membership.objects.for_org(org).filter(user__email=email).exists():
        raise Conflict(f"{email} is already a member.", code="already_member", fields={"email": "Already a member."})
    if Invitation.objects.for_org(org).filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).exists():
        raise Conflict(
            f"{email} already has a pending invitation: resend it instead.",
            code="already_invited",
            fields={"email": "Already invited."},
        )
    invitation = Invitation(org=org, email=email, role=wanted, invited_by=actor)
    raw = _new_invitation_token(invitation)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        raise Conflict(
            f"{email} already has a pending invitation.", code="already_invited", fields={"email": "Already invited."}
        ) from None
    audit_record(
        action="invitation.create",
        actor=actor,
        org=org,
        target_type="invitation",
        target_id=invitation.pk,
        target_label=email,
        after={"email": email, "role": wanted.value},
    )
    _invitation_email(invitation=invitation, raw_token=raw, inviter=actor)
    return invitation


def _invitation_open(invitation: Invitation) -> None:
    if invitation.revoked_at:
        raise Gone("This invitation was revoked.", code="invitation_revoked")
    if invitation.accepted_at:
        raise Gone("This invitation has already been used.", code="invitation_used")


@transaction.atomic
def invitation_resend(*, org: Org, actor: User, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().for_org(org).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    _invitation_open(invitation)
    raw = _new_invitation_token(invitation)
    invitation.sent_count += 1
    invitation.save(update_fields=["token_hash", "last_sent_at", "expires_at", "sent_count"])
    audit_record(
        action="invitation.resend",
        actor=actor,
        org=org,
        target_type="invitation",
        target_id=invitation.pk,
        target_label=invitation.email,
    )
    _invitation_email(invitation=invitation, raw_token=raw, inviter=actor)
    return invitation


@transaction.atomic
def invitation_revoke(*, org: Org, actor: User, invitation_id: int) -> None:
    invitation = Invitation.objects.select_for_update().for_org(org).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("Invitation not found.")
    _invitation_open(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action="invitation.revoke",
        actor=actor,
        org=org,
        target_type="invitation",
        target_id=invitation.pk,
        target_label=invitation.email,
        before={"role": invitation.role},
    )


def invitation_check(*, raw_token: str) -> Invitation:
    """The invitation behind a link, if it can still be accepted."""
    invitation = invitation_by_token(raw_token=raw_token)
    if invitation is None:
        raise NotFound("This invitation link is not valid.", code="invitation_invalid")
    _invitation_open(invitation)
    if invitation.expires_at <= timezone.now():
        raise Gone("This invitation has expired: ask for a new one.", code="invitation_expired")
    return invitation


@transaction.atomic
def invitation_accept(
    *, raw_token: str, current_user: User | None, name: str = "", password: str | None = None
) -> tuple[User, Membership]:
    """Single use. A new person sets a password; an existing user must be signed in as the invitee."""
    invitation = invitation_check(raw_token=raw_token)
    invitation = Invitation.objects.select_for_update().select_related("org").get(pk=invitation.pk)
    _invitation_open(invitation)
    existing = User.objects.filter(email=invitation.email).first()
    if existing is not None:
        if current_user is None:
            raise NotAuthenticated(f"Log in as {invitation.email} to accept this invitation.", code="login_required")
        if current_user.pk != existing.pk:
            raise PermissionDenied(
                f"This invitation is for {invitation.email}; you are logged in as {current_user.email}.",
                code="wrong_user",
            )
        user = existing
    else:
        if not password:
            raise field_error("password", "Choose a password for your new account.", code="required")
        user = account_services.user_create(email=invitation.email, password=password, name=name)
        # The invitation link reached this address: the email is verified.
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    membership, created = Membership.objects.get_or_create(
        org=invitation.org, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    user_org_remember(user=user, org=invitation.org)
    audit_record(
        action="invitation.accept",
        actor=user,
        org=invitation.org,
        target_type="membership",
        target_id=membership.pk,
        target_label=user.email,
        after={"role": membership.role, "new_member": created},
    )
    return user, membership


def _admin_count(org: Org) -> int:
    return Membership.objects.for_org(org).filter(role__in=[r.value for r in ADMIN_ROLES]).count()


@transaction.atomic
def member_role_change(*, org: Org, actor: User, actor_role: str, user_id: int, role: str) -> Membership:
    wanted = _role_parse(role)
    membership = (
        Membership.objects.select_for_update().for_org(org).select_related("user").filter(user_id=user_id).first()
    )
    if membership is None:
        raise NotFound("Member not found.")
    if not role_may_grant(granter=actor_role, role=wanted):
        raise PermissionDenied(
            "You cannot grant a role above your own.", code="role_escalation", fields={"role": "Above your own role."}
        )
    if not role_may_grant(granter=actor_role, role=membership.role):
        raise PermissionDenied("You cannot change the role of someone above you.", code="role_escalation")
    before = membership.role
    if before == wanted:
        return membership
    if Role(before) in ADMIN_ROLES and wanted not in ADMIN_ROLES and _admin_count(org) <= 1:
        raise Conflict("The organisation needs at least one admin.", code="last_admin", fields={"role": "Last admin."})
    membership.role = wanted
    membership.save(update_fields=["role"])
    audit_record(
        action="member.role_change",
        actor=actor,
        org=org,
        target_type="membership",
        target_id=membership.pk,
        target_label=membership.user.email,
        before={"role": before},
        after={"role": wanted.value},
    )
    return membership


@transaction.atomic
def member_remove(*, org: Org, actor: User, actor_role: str, user_id: int) -> None:
    membership = (
        Membership.objects.select_for_update().for_org(org).select_related("user").filter(user_id=user_id).first()
    )
    if membership is None:
        raise NotFound("Member not found.")
    if not role_may_grant(granter=actor_role, role=membership.role):
        raise PermissionDenied("You cannot remove someone whose role is above yours.", code="role_escalation")
    if Role(membership.role) in ADMIN_ROLES and _admin_count(org) <= 1:
        raise Conflict("You cannot remove the last admin of the organisation.", code="last_admin")
    ApiToken.objects.for_org(org).filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    membership.delete()
    audit_record(
        action="member.remove",
        actor=actor,
        org=org,
        target_type="membership",
        target_id=user_id,
        target_label=membership.user.email,
        before={"role": membership.role},
    )


@transaction.atomic
def api_token_create(*, org: Org, user: User, name: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise field_error("name", "Name the token after what will use it.")
    if len(name) > 100:
        raise field_error("name", "The name is longer than 100 characters.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        org=org, user=user, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], token_hash=token_hash(raw)
    )
    audit_record(
        action="token.create", actor=user, org=org, target_type="api_token", target_id=token.pk, target_label=name
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, org: Org, user: User, token_id: int) -> None:
    token = ApiToken.objects.for_org(org).filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("Token not found.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action="token.revoke", actor=user, org=org, target_type="api_token", target_id=token.pk, target_label=token.name
    )
