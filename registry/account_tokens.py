"""Single-use links that let a person choose a password: invitations and password resets.

Only a hash of each token is stored, so a copy of the database opens no account. A token is
used up when the password is chosen, and a new one of the same kind replaces every earlier
one of that account.
"""

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db
from .i18n import lazy_gettext as _l
from .models import User, portable_enum, utcnow


class Purpose(enum.StrEnum):
    INVITATION = "invitation"
    RESET = "reset"


VALID_FOR = {Purpose.INVITATION: timedelta(days=7), Purpose.RESET: timedelta(hours=1)}
# A token as a link carries it: 43 URL-safe characters; anything else is not looked up.
TOKEN_LENGTH = 43


class AccountToken(db.Model):
    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[Purpose] = mapped_column(portable_enum(Purpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, purpose: Purpose) -> str:
    """A new link token for `user` (the caller commits); earlier unused ones of this kind end."""
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user=user,
            purpose=purpose,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + VALID_FOR[purpose],
        )
    )
    return token


def issued_since(user: User, purpose: Purpose, since: datetime) -> int:
    return len(
        db.session.scalars(
            select(AccountToken.id).where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == purpose,
                AccountToken.created_at >= since,
            )
        ).all()
    )


class TokenRefused(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


USED = _l("Deze link is al gebruikt. Vraag zo nodig een nieuwe aan.")
EXPIRED = _l("Deze link is verlopen. Vraag een nieuwe aan.")
UNKNOWN = _l("Deze link is niet (meer) geldig. Controleer of u de hele link uit de e-mail hebt.")


def find(token: str, purpose: Purpose) -> AccountToken:
    """The live token behind a link, or TokenRefused with the reason in words."""
    if len(token) != TOKEN_LENGTH or not token.isascii():
        raise TokenRefused(UNKNOWN)
    found = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _digest(token), AccountToken.purpose == purpose
        )
    )
    if found is None or not found.user.active:
        raise TokenRefused(UNKNOWN)
    if found.used_at is not None:
        raise TokenRefused(USED)
    expires = found.expires_at
    if expires.tzinfo is None:  # SQLite gives moments back without their zone
        expires = expires.replace(tzinfo=utcnow().tzinfo)
    if expires <= utcnow():
        raise TokenRefused(EXPIRED)
    return found


def use(token: AccountToken) -> bool:
    """Mark the token used; False when another request used it first (a double click)."""
    return bool(
        db.session.execute(
            update(AccountToken)
            .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    )
