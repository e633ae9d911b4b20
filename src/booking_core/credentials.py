"""What is stored of a practitioner's secrets (sign-in links, sessions, API tokens): a hash, whose
it is, and until when it counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from attrs import frozen

SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=14)


class CredentialKind(StrEnum):
    SIGN_IN_LINK = "sign_in_link"  # single use, SIGN_IN_LINK_LIFETIME
    SESSION = "session"  # a signed-in browser, SESSION_LIFETIME, ended by signing out
    API_TOKEN = "api_token"  # noqa: S105 (a kind's name); for scripts, until revoked


LIFETIMES: dict[CredentialKind, timedelta | None] = {
    CredentialKind.SIGN_IN_LINK: SIGN_IN_LINK_LIFETIME,
    CredentialKind.SESSION: SESSION_LIFETIME,
    CredentialKind.API_TOKEN: None,
}


@frozen
class Credential:
    """A secret's hash and whose it is; the secret itself is never stored."""

    token_hash: str
    kind: CredentialKind
    practitioner_id: str
    created_at: datetime
    expires_at: datetime | None  # None: until revoked

    def is_valid(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at
