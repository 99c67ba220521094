"""Session auth endpoints: CSRF cookie, login/logout, passwords, email verification."""

from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Schema

from dalgo.accounts import services
from dalgo.core.api import AUTHENTICATED, PUBLIC, DalgoRouter, ctx_of

router = DalgoRouter(tags=["auth"])


class CsrfOut(Schema):
    csrf_token: str


class LoginIn(Schema):
    email: str
    password: str


class OkOut(Schema):
    ok: bool = True


class PasswordForgotIn(Schema):
    email: str


class PasswordResetIn(Schema):
    uid: str
    token: str
    new_password: str


class PasswordChangeIn(Schema):
    current_password: str
    new_password: str


class EmailVerifyIn(Schema):
    token: str


@router.get("/csrf", permission=PUBLIC, response=CsrfOut)
def csrf(request: HttpRequest) -> CsrfOut:
    """Sets the CSRF cookie; the UI sends it back as the X-CSRFToken header."""
    return CsrfOut(csrf_token=get_token(request))


@router.post("/login", permission=PUBLIC, response=OkOut)
def login(request: HttpRequest, payload: LoginIn) -> OkOut:
    services.login_attempt(request=request, email=payload.email, password=payload.password)
    return OkOut()


@router.post("/logout", permission=PUBLIC, response=OkOut)
def logout(request: HttpRequest) -> OkOut:
    services.logout_current(request=request)
    return OkOut()


@router.post("/password/forgot", permission=PUBLIC, response=OkOut)
def password_forgot(request: HttpRequest, payload: PasswordForgotIn) -> OkOut:
    services.password_reset_request(email=payload.email)
    return OkOut()


@router.post("/password/reset", permission=PUBLIC, response=OkOut)
def password_reset(request: HttpRequest, payload: PasswordResetIn) -> OkOut:
    services.password_reset_confirm(uid=payload.uid, token=payload.token, new_password=payload.new_password)
    return OkOut()


@router.post("/password/change", permission=AUTHENTICATED, response=OkOut)
def password_change(request: HttpRequest, payload: PasswordChangeIn) -> OkOut:
    services.password_change(
        request=request,
        user=ctx_of(request).require_user,
        current_password=payload.current_password,
        new_password=payload.new_password,
    )
    return OkOut()


@router.post("/email/verify", permission=PUBLIC, response=OkOut)
def email_verify(request: HttpRequest, payload: EmailVerifyIn) -> OkOut:
    services.email_verify(token=payload.token)
    return OkOut()


@router.post("/email/resend", permission=AUTHENTICATED, response=OkOut)
def email_resend(request: HttpRequest) -> OkOut:
    services.email_verification_send(user=ctx_of(request).require_user)
    return OkOut()
