"""The CredentialStore contract (booking_core.ports): subclass it and give it a fixture
`credentials`, an empty store. Sign-in links, sessions and API tokens are found by the hash of
their secret while valid, a link is taken once, and revocation is per credential or per kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from attrs import evolve

from booking_core.booking import hash_token
from booking_core.credentials import Credential, CredentialKind
from booking_core.ports import CredentialStore
from booking_core.testing.fields import fields_left_at_default

NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
LINK, SESSION, API = CredentialKind.SIGN_IN_LINK, CredentialKind.SESSION, CredentialKind.API_TOKEN


def credential(
    secret: str,
    kind: CredentialKind = SESSION,
    practitioner_id: str = "pr-a",
    lasts: timedelta | None = timedelta(minutes=15),
) -> Credential:
    return Credential(hash_token(secret), kind, practitioner_id, NOW, None if lasts is None else NOW + lasts)


class CredentialStoreContract:
    pytestmark = pytest.mark.anyio

    async def test_every_field_round_trips(self, credentials: CredentialStore) -> None:
        samples = [credential("s1", SESSION), credential("a1", API, "pr-b", lasts=None)]
        assert not fields_left_at_default(*samples)
        for sample in samples:
            await credentials.add(sample, NOW)
            assert await credentials.find(sample.kind, sample.token_hash, NOW) == sample

    async def test_found_only_by_its_kind_and_hash(self, credentials: CredentialStore) -> None:
        session = credential("secret", SESSION)
        await credentials.add(session, NOW)
        assert await credentials.find(API, session.token_hash, NOW) is None
        assert await credentials.find(SESSION, hash_token("other"), NOW) is None
        assert await credentials.find(SESSION, "secret", NOW) is None  # the secret itself is no key

    async def test_an_expired_credential_is_not_found(self, credentials: CredentialStore) -> None:
        session = credential("secret", lasts=timedelta(minutes=15))
        await credentials.add(session, NOW)
        assert await credentials.find(SESSION, session.token_hash, NOW + timedelta(minutes=14)) == session
        assert await credentials.find(SESSION, session.token_hash, NOW + timedelta(minutes=15)) is None

    async def test_one_without_expiry_lasts_until_revoked(self, credentials: CredentialStore) -> None:
        token = credential("token", API, lasts=None)
        await credentials.add(token, NOW)
        assert await credentials.find(API, token.token_hash, NOW + timedelta(days=3650)) == token

    async def test_a_link_is_taken_once(self, credentials: CredentialStore) -> None:
        link = credential("link", LINK)
        await credentials.add(link, NOW)
        assert await credentials.take(LINK, link.token_hash, NOW) == link
        assert await credentials.take(LINK, link.token_hash, NOW) is None
        assert await credentials.find(LINK, link.token_hash, NOW) is None

    async def test_an_expired_link_cannot_be_taken(self, credentials: CredentialStore) -> None:
        link = credential("link", LINK, lasts=timedelta(minutes=15))
        await credentials.add(link, NOW)
        assert await credentials.take(LINK, link.token_hash, NOW + timedelta(minutes=15)) is None

    async def test_of_racing_takers_exactly_one_wins(self, credentials: CredentialStore) -> None:
        link = credential("link", LINK)
        await credentials.add(link, NOW)
        winners: list[Credential] = []

        async def take() -> None:
            taken = await credentials.take(LINK, link.token_hash, NOW)
            if taken is not None:
                winners.append(taken)

        async with anyio.create_task_group() as racers:
            for _ in range(8):
                racers.start_soon(take)
        assert winners == [link]

    async def test_revoking_ends_one_credential(self, credentials: CredentialStore) -> None:
        ended, kept = credential("one"), credential("two")
        await credentials.add(ended, NOW)
        await credentials.add(kept, NOW)
        await credentials.revoke(SESSION, ended.token_hash)
        await credentials.revoke(SESSION, ended.token_hash)  # twice is harmless
        assert await credentials.find(SESSION, ended.token_hash, NOW) is None
        assert await credentials.find(SESSION, kept.token_hash, NOW) == kept

    async def test_revoking_names_the_kind(self, credentials: CredentialStore) -> None:
        token = credential("token", API, lasts=None)
        await credentials.add(token, NOW)
        await credentials.revoke(SESSION, token.token_hash)
        assert await credentials.find(API, token.token_hash, NOW) == token

    async def test_revoke_all_ends_one_kind_of_one_practitioner(self, credentials: CredentialStore) -> None:
        mine = [credential(f"api-{n}", API, "pr-a", lasts=None) for n in range(3)]
        session = credential("session", SESSION, "pr-a")
        theirs = credential("their-api", API, "pr-b", lasts=None)
        for each in [*mine, session, theirs]:
            await credentials.add(each, NOW)
        assert await credentials.revoke_all("pr-a", API) == 3
        assert await credentials.revoke_all("pr-a", API) == 0
        for each in mine:
            assert await credentials.find(API, each.token_hash, NOW) is None
        assert await credentials.find(SESSION, session.token_hash, NOW) == session
        assert await credentials.find(API, theirs.token_hash, NOW) == theirs

    async def test_adding_keeps_the_valid_ones(self, credentials: CredentialStore) -> None:
        later = NOW + timedelta(minutes=20)
        expired = credential("expired", lasts=timedelta(minutes=15))
        valid = credential("valid", lasts=timedelta(days=14))
        await credentials.add(expired, NOW)
        await credentials.add(valid, NOW)
        await credentials.add(evolve(credential("new"), created_at=later), later)
        assert await credentials.find(SESSION, valid.token_hash, later) == valid
        assert await credentials.find(SESSION, expired.token_hash, later) is None
