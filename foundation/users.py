"""Users and roles: who may log in, and what each role may see."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation.db import Base, UTCDateTime, utcnow

_hasher = PasswordHasher()  # argon2id: salted, memory-hard


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    AGENCY = "agency"
    MANAGER = "manager"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(128), default="")
    agent_ext: Mapped[str | None] = mapped_column(String(16), default=None)
    agency: Mapped[str | None] = mapped_column(String(32), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    # Every session cookie carries the epoch it was issued under; log-out and a password
    # change move it on, so every earlier cookie (a copied one too) stops working at once.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # TOTP second factor (foundation/second_factor.py): the shared secret once enrolled, and
    # the last 30-second step a code was accepted for (no code works twice)
    totp_secret: Mapped[str | None] = mapped_column(String(32), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    # "<issuer> <sub>" of a user who logs in by single sign-on (foundation/sso.py)
    sso_subject: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class UserError(ValueError):
    """A user could not be created as asked."""


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    full_name: str = "",
    agent_ext: str | None = None,
    agency: str | None = None,
) -> User:
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}")
    if not username or not username.isascii() or not username.replace("_", "").isalnum():
        raise UserError("username must be letters, digits or underscores")
    _check_password_rule(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        full_name=full_name,
        agent_ext=agent_ext,
        agency=agency,
    )
    session.add(user)
    session.flush()
    return user


def _check_password_rule(password: str) -> None:
    if len(password) < 10:
        raise UserError("password must be at least 10 characters")


def set_password(session: Session, username: str, password: str) -> User:
    """Give ``username`` a new password and end every session it had."""
    _check_password_rule(password)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1
    session.flush()
    return user


def set_second_factor(session: Session, username: str, secret: str | None) -> User:
    """Enrol ``username`` with this TOTP secret (None: remove it); its sessions end."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    user.totp_secret, user.totp_last_step = secret, None
    user.session_epoch += 1
    session.flush()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Revoke every session cookie issued to this user so far."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_epoch += 1


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        _hasher.hash(password)  # same cost either way: no user-enumeration by timing
        return None
    return user if user.check_password(password) else None
