"""Writes for user accounts: sign-up, login with throttling, passwords, email verification."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from dalgo.accounts.models import User
from dalgo.core.audit import audit_record, client_ip
from dalgo.core.errors import Conflict, NotAuthenticated, RateLimited, ValidationFailed, field_error
from dalgo.core.mail import email_send_on_commit

EMAIL_VERIFY_SALT = "dalgo.accounts.email-verify"
EMAIL_VERIFY_MAX_AGE = 60 * 60 * 24 * 3


def email_normalize(*, email: str, field: str = "email") -> str:
    value = (email or "").strip().lower()
    try:
        validate_email(value)
    except DjangoValidationError:
        raise field_error(field, "Enter a valid email address.") from None
    return value


def password_check(*, password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        reason = " ".join(exc.messages)
        raise ValidationFailed(reason, code="weak_password", fields={field: reason}) from None


@transaction.atomic
def user_create(*, email: str, password: str, name: str = "") -> User:
    email = email_normalize(email=email)
    if User.objects.filter(email=email).exists():
        raise Conflict(
            "An account with this email already exists.", code="email_taken", fields={"email": "Already registered."}
        )
    name = name.strip()[:150]
    password_check(password=password, user=User(email=email, name=name))
    user = User.objects.create_user(email=email, password=password, name=name)
    audit_record(action="user.signup", actor=user, target_type="user", target_id=user.pk, target_label=email)
    email_verification_send(user=user)
    return user


@transaction.atomic
def user_profile_update(*, user: User, name: str) -> User:
    name = (name or "").strip()
    if len(name) > 150:
        raise field_error("name", "The name is longer than 150 characters.")
    before = user.name
    if name != before:
        user.name = name
        user.save(update_fields=["name"])
        audit_record(
            action="user.profile_update",
            actor=user,
            target_type="user",
            target_id=user.pk,
            target_label=user.email,
            before={"name": before},
            after={"name": name},
        )
    return user


def _throttle_keys(email: str, ip: str | None) -> list[str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:24]
    return [f"dalgo:login-fail:{digest}:{ip}", f"dalgo:login-fail-ip:{ip}"]


def login_attempt(*, request: HttpRequest, email: str, password: str) -> User:
    """Log in with the session; after too many failures from one address the door stays shut."""
    email = (email or "").strip().lower()
    ip = client_ip(request)
    keys = _throttle_keys(email, ip)
    limit = settings.DALGO_LOGIN_MAX_FAILURES
    window = settings.DALGO_LOGIN_WINDOW_SECONDS
    counts = [cache.get(keys[0], 0), cache.get(keys[1], 0)]
    if counts[0] >= limit or counts[1] >= limit * 4:
        raise RateLimited(f"Too many failed logins. Try again in {window // 60} minutes.")
    user = authenticate(request, email=email, password=password)
    if user is None:
        for key in keys:
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=window)
        audit_record(action="user.login_failed", actor=None, target_type="user", target_label=email, ip=ip)
        raise NotAuthenticated("Email or password is incorrect.", code="invalid_credentials")
    assert isinstance(user, User)
    cache.delete(keys[0])
    login(request, user)
    audit_record(action="user.login", actor=user, target_type="user", target_id=user.pk, target_label=email, ip=ip)
    return user


def logout_current(*, request: HttpRequest) -> None:
    logout(request)


def password_reset_request(*, email: str) -> None:
    """Always succeeds (never reveals whether an account exists); mails a link if it does."""
    email = email_normalize(email=email)
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.DALGO_BASE_URL}/reset-password?uid={uid}&token={token}"
    email_send_on_commit(
        to=user.email,
        subject="Reset your Dalgo password",
        body=f"Hello {user.display_name},\n\nReset your password with this link (valid for 24 hours):\n{link}\n\n"
        "If you did not ask for this, ignore this email.\n",
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uid))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        raise field_error("token", "This reset link is invalid.", code="invalid_token") from None
    if not default_token_generator.check_token(user, token):
        raise field_error("token", "This reset link is invalid or has expired.", code="invalid_token")
    password_check(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(
        action="user.password_reset", actor=user, target_type="user", target_id=user.pk, target_label=user.email
    )
    return user


@transaction.atomic
def password_change(*, request: HttpRequest, user: User, current_password: str, new_password: str) -> None:
    from django.contrib.auth import update_session_auth_hash

    if not user.check_password(current_password):
        raise field_error("current_password", "The current password is incorrect.")
    password_check(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)
    audit_record(
        action="user.password_change", actor=user, target_type="user", target_id=user.pk, target_label=user.email
    )


def email_verification_token(*, user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=EMAIL_VERIFY_SALT)


def email_verification_send(*, user: User) -> None:
    token = email_verification_token(user=user)
    link = f"{settings.DALGO_BASE_URL}/verify-email?token={token}"
    email_send_on_commit(
        to=user.email,
        subject="Confirm your email for Dalgo",
        body=f"Hello {user.display_name},\n\nConfirm your email address with this link:\n{link}\n",
    )


@transaction.atomic
def email_verify(*, token: str) -> User:
    try:
        data = signing.loads(token, salt=EMAIL_VERIFY_SALT, max_age=EMAIL_VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        raise field_error("token", "This verification link has expired: ask for a new one.", code="expired") from None
    except signing.BadSignature:
        raise field_error("token", "This verification link is invalid.", code="invalid_token") from None
    user = User.objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        raise field_error("token", "This verification link is invalid.", code="invalid_token")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        audit_record(
            action="user.email_verified", actor=user, target_type="user", target_id=user.pk, target_label=user.email
        )
    return user
