"""Fixtures shared by every test (loaded with `-p tests.fixtures`): a real SMTP server, factories
for users and orgs, and an API client that commits like a real request does."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiosmtpd.controller import Controller
from django.test import Client, TestCase

from dalgo.accounts.models import User
from dalgo.orgs.models import Membership, Org
from dalgo.orgs.roles import Role

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


# ---- a real SMTP server on loopback ----------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@dataclass
class Mailbox:
    inbox: _Inbox

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def last_link(self, address: str, path: str) -> str:
        """The last link containing `path` mailed to `address`."""
        for message in reversed(self.to(address)):
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body else ""
            found = re.findall(r"https?://\S+", text)
            for link in reversed(found):
                if path in link:
                    return str(link)
        raise AssertionError(f"no mail to {address} with a link containing {path!r}")


@pytest.fixture(autouse=True)
def mailbox(smtp_server: tuple[_Inbox, int], settings: Any) -> Mailbox:
    inbox, port = smtp_server
    inbox.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return Mailbox(inbox)


@pytest.fixture(autouse=True)
def fast_and_fresh(settings: Any) -> Iterator[None]:
    """A fast password hasher (hashing is not under test), and an empty cache, where login
    throttling lives, so tests stay independent."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache_clear_own_keys()
    yield


def cache_clear_own_keys() -> None:
    """Empty this session's part of the cache only: another test session may share the Redis db."""
    from django.conf import settings
    from django.core.cache import cache

    if not settings.DALGO_REDIS_URL:
        cache.clear()
        return
    import redis

    client = redis.Redis.from_url(settings.DALGO_REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def pypi_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir whose `connectors/` keeps the PyPI connectors installed during the session (an
    install takes 7-21 s): tests that need them point DALGO_DATA_DIR here or link its connectors."""
    root = tmp_path_factory.mktemp("connectors-pypi")
    (root / "connectors").mkdir()
    return root


# ---- factories -------------------------------------------------------------------------------


def make_user(email: str | None = None, *, password: str = PASSWORD, name: str = "", verified: bool = True) -> User:
    n = next(_seq)
    user = User.objects.create_user(email=email or f"user{n}@example.org", password=password, name=name or f"User {n}")
    if verified:
        from django.utils import timezone

        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def make_org(name: str | None = None, *, owner: User | None = None) -> Org:
    n = next(_seq)
    org = Org.objects.create(name=name or f"Org {n}", slug=f"org-{n}")
    if owner is not None:
        Membership.objects.create(org=org, user=owner, role=Role.SUPER_ADMIN)
    return org


def add_member(org: Org, user: User, role: str) -> Membership:
    return Membership.objects.create(org=org, user=user, role=role)


# ---- API client ------------------------------------------------------------------------------


@dataclass
class Api:
    """Django's test client speaking JSON, with the org header, running on-commit side effects
    (emails, tasks) at the end of each request as a real commit would."""

    client: Client = field(default_factory=Client)
    org: str | None = None
    token: str | None = None

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **headers: str) -> Any:
        if self.org and "X-Dalgo-Org" not in headers:
            headers["X-Dalgo-Org"] = self.org
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data: bytes | str | None = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        with TestCase.captureOnCommitCallbacks(execute=True):
            return getattr(self.client, method.lower())(path, **kwargs)

    def get(self, path: str, **headers: str) -> Any:
        return self.request("GET", path, **headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("POST", path, body if body is not None else {}, **headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("PATCH", path, body, **headers)

    def put_json(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("PUT", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.request("DELETE", path, **headers)

    def login(self, user: User, org: Org | None = None) -> Api:
        self.client.force_login(user)
        self.org = org.slug if org else None
        return self


@pytest.fixture
def api() -> Api:
    return Api()


@dataclass
class TwoOrgs:
    """Org A with one user per role; org B with its own admin (the outsider)."""

    a: Org
    b: Org
    users: dict[str, User]
    outsider: User

    def as_role(self, role: str) -> Api:
        return Api().login(self.users[role], self.a)

    def as_outsider(self) -> Api:
        """A real member of org B asking for org A's things through org B."""
        return Api().login(self.outsider, self.b)


@pytest.fixture
def two_orgs(db: None) -> TwoOrgs:
    a = make_org("Org A")
    b = make_org("Org B")
    users = {}
    for role in Role:
        user = make_user(f"{role.value}@a.example.org")
        add_member(a, user, role.value)
        users[role.value] = user
    outsider = make_user("admin@b.example.org")
    add_member(b, outsider, Role.SUPER_ADMIN)
    return TwoOrgs(a=a, b=b, users=users, outsider=outsider)
