"""PractitionerAccess over the memory fakes: what a link, a session and an API token are good for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from booking_adapters.memory import ManualClock, MemoryCredentialStore, MemoryDirectory, SequentialIds
from booking_core import (
    SESSION_LIFETIME,
    CredentialKind,
    PractitionerAccess,
    Unauthenticated,
    UnknownPractitioner,
)
from tests.unit.core.fixtures import MONDAY, practitioner

pytestmark = pytest.mark.anyio

JANE = evolve(practitioner("jane"), email="Jane@Example.org")
BO = practitioner("bo")  # no e-mail: cannot sign in with a link


def access_over(directory: MemoryDirectory, clock: ManualClock) -> PractitionerAccess:
    return PractitionerAccess(directory, MemoryCredentialStore(), clock, SequentialIds())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory.of([JANE, BO])


@pytest.fixture
def access(directory: MemoryDirectory, clock: ManualClock) -> PractitionerAccess:
    return access_over(directory, clock)


async def test_a_link_goes_to_the_practitioner_with_the_address(access: PractitionerAccess) -> None:
    found = await access.sign_in_link_for(" jane@example.ORG")
    assert found is not None
    who, link = found
    assert who.id == "jane"
    assert link.credential.token_hash != link.token  # only the hash is stored
    assert link.credential.expires_at == link.credential.created_at + timedelta(minutes=15)
    assert await access.sign_in_link_for("bo@example.org") is None
    assert await access.sign_in_link_for("") is None


async def test_a_session_lasts_14_days(access: PractitionerAccess, clock: ManualClock) -> None:
    found = await access.sign_in_link_for("jane@example.org")
    assert found is not None
    _, session = await access.sign_in(found[1].token)
    clock.advance(SESSION_LIFETIME - timedelta(seconds=1))
    assert (await access.practitioner_of(CredentialKind.SESSION, session.token)).id == "jane"
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        await access.practitioner_of(CredentialKind.SESSION, session.token)


async def test_a_session_is_no_api_token_and_a_link_no_session(access: PractitionerAccess) -> None:
    found = await access.sign_in_link_for("jane@example.org")
    assert found is not None
    with pytest.raises(Unauthenticated):
        await access.practitioner_of(CredentialKind.SESSION, found[1].token)
    _, session = await access.sign_in(found[1].token)
    with pytest.raises(Unauthenticated):
        await access.practitioner_of(CredentialKind.API_TOKEN, session.token)


async def test_a_removed_practitioner_is_signed_in_no_more(
    access: PractitionerAccess, directory: MemoryDirectory, clock: ManualClock
) -> None:
    token = await access.issue_api_token("jane")
    found = await access.sign_in_link_for("jane@example.org")
    assert found is not None
    await directory.remove("jane", clock.now())
    with pytest.raises(Unauthenticated):
        await access.practitioner_of(CredentialKind.API_TOKEN, token)
    with pytest.raises(Unauthenticated):
        await access.sign_in(found[1].token)


async def test_tokens_are_issued_for_known_practitioners_only(access: PractitionerAccess) -> None:
    with pytest.raises(UnknownPractitioner):
        await access.issue_api_token("nobody")
    assert await access.revoke_api_tokens("nobody") == 0


async def test_signing_out_ends_only_that_session(access: PractitionerAccess) -> None:
    sessions = []
    for _ in range(2):
        found = await access.sign_in_link_for("jane@example.org")
        assert found is not None
        sessions.append((await access.sign_in(found[1].token))[1].token)
    await access.sign_out(sessions[0])
    with pytest.raises(Unauthenticated):
        await access.practitioner_of(CredentialKind.SESSION, sessions[0])
    assert (await access.practitioner_of(CredentialKind.SESSION, sessions[1])).id == "jane"
