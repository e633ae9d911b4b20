"""How a practitioner proves who they are: a one-time sign-in link e-mailed to them, the session it
starts, and API tokens for scripts. Every secret is handed out once and stored only as its SHA-256
(`hash_token`, as the cancel token), so a copy of the database signs nobody in."""

from __future__ import annotations

from datetime import datetime

from attrs import define, frozen

from booking_core.booking import hash_token
from booking_core.credentials import LIFETIMES, Credential, CredentialKind
from booking_core.errors import Unauthenticated, UnknownPractitioner
from booking_core.offer import Practitioner
from booking_core.ports import Clock, CredentialStore, IdGenerator, PractitionerDirectory


@frozen
class IssuedToken:
    """A new secret (to hand out once, never to log) and what is stored of it."""

    token: str
    credential: Credential


_NOT_SIGNED_IN = "Sign in first: no valid session or API token came with the request."
_LINK_SPENT = "This sign-in link has expired or was used already. Ask for a new one."


@define
class PractitionerAccess:
    """The use cases of signing in; the web layer carries the tokens (e-mail, cookie, header)."""

    directory: PractitionerDirectory
    credentials: CredentialStore
    clock: Clock
    ids: IdGenerator

    async def sign_in_link_for(self, email: str) -> tuple[Practitioner, IssuedToken] | None:
        """A one-time sign-in link for the practitioner with this e-mail (compared
        case-insensitively), or None if nobody has it: the caller answers alike either way."""
        wanted = email.strip().lower()
        if not wanted:
            return None
        for practitioner in await self.directory.list():
            if practitioner.email is not None and practitioner.email.lower() == wanted:
                return practitioner, await self._issue(CredentialKind.SIGN_IN_LINK, practitioner.id)
        return None

    async def link_is_valid(self, link_token: str) -> bool:
        """Whether the link would sign in now (without using it up: the confirmation page asks)."""
        found = await self.credentials.find(CredentialKind.SIGN_IN_LINK, hash_token(link_token), self._now())
        return found is not None

    async def sign_in(self, link_token: str) -> tuple[Practitioner, IssuedToken]:
        """Use the link up (once, whoever races for it) and start a session; Unauthenticated if it
        expired, was used, or its practitioner was removed meanwhile."""
        taken = await self.credentials.take(CredentialKind.SIGN_IN_LINK, hash_token(link_token), self._now())
        practitioner = await self._practitioner(taken)
        if practitioner is None:
            raise Unauthenticated(_LINK_SPENT)
        return practitioner, await self._issue(CredentialKind.SESSION, practitioner.id)

    async def sign_out(self, session_token: str) -> None:
        """End this session (others of the same practitioner, on other devices, stay)."""
        await self.credentials.revoke(CredentialKind.SESSION, hash_token(session_token))

    async def practitioner_of(self, kind: CredentialKind, token: str) -> Practitioner:
        """Whose session or API token this is; Unauthenticated for an unknown, expired or revoked
        one, or one of a removed practitioner."""
        found = await self.credentials.find(kind, hash_token(token), self._now()) if token else None
        practitioner = await self._practitioner(found)
        if practitioner is None:
            raise Unauthenticated(_NOT_SIGNED_IN)
        return practitioner

    async def issue_api_token(self, practitioner_id: str) -> str:
        """A new API token (several may exist); UnknownPractitioner for an unknown id."""
        practitioner = await self.directory.get(practitioner_id)
        if practitioner is None:
            raise UnknownPractitioner(practitioner_id)
        return (await self._issue(CredentialKind.API_TOKEN, practitioner.id)).token

    async def revoke_api_tokens(self, practitioner_id: str) -> int:
        """Revoke every API token of the practitioner; how many there were."""
        return await self.credentials.revoke_all(practitioner_id, CredentialKind.API_TOKEN)

    async def _issue(self, kind: CredentialKind, practitioner_id: str) -> IssuedToken:
        now = self._now()
        lifetime = LIFETIMES[kind]
        token = self.ids.secret_token()
        credential = Credential(
            hash_token(token), kind, practitioner_id, now, None if lifetime is None else now + lifetime
        )
        await self.credentials.add(credential, now)
        return IssuedToken(token, credential)

    async def _practitioner(self, credential: Credential | None) -> Practitioner | None:
        if credential is None:
            return None
        return await self.directory.get(credential.practitioner_id)

    def _now(self) -> datetime:
        return self.clock.now()
