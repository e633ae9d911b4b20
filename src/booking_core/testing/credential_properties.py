"""The CredentialStore as a property (see contracts.py for how to subclass a contract): any generated
run of credentials added (each kind, with or without an expiry), looked up, taken, revoked one by one
or all of a kind, and passing time finds exactly what a plain model says: a credential while it has
not expired, been taken or been revoked. Fixture: `credentials`, empty; every example uses
practitioners and secrets of its own."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from attrs import define, field, frozen
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking_core.booking import hash_token
from booking_core.credentials import Credential, CredentialKind
from booking_core.ports import CredentialStore
from booking_core.testing.credential_contracts import NOW

_examples = itertools.count()


@frozen
class Add:
    practitioner: int
    kind: CredentialKind
    minutes: int | None  # None: lasts until revoked


@frozen
class Look:
    index: int  # one of the credentials added
    take: bool  # take (single use) instead of find


@frozen
class Revoke:
    index: int


@frozen
class RevokeAll:
    practitioner: int
    kind: CredentialKind


@frozen
class Wait:
    minutes: int


Step = Add | Look | Revoke | RevokeAll | Wait
_kinds = st.sampled_from(list(CredentialKind))
runs = st.lists(
    st.one_of(
        st.builds(Add, st.integers(0, 1), _kinds, st.sampled_from([None, 5, 15, 60])),
        st.builds(Look, st.integers(0, 20), st.booleans()),
        st.builds(Revoke, st.integers(0, 20)),
        st.builds(RevokeAll, st.integers(0, 1), _kinds),
        st.builds(Wait, st.sampled_from([1, 5, 14, 15, 30])),
    ),
    max_size=30,
)


@define
class _Run:
    credentials: CredentialStore
    example: int = field(factory=lambda: next(_examples))
    now: datetime = NOW
    added: list[Credential] = field(factory=list)
    present: set[int] = field(factory=set)  # indexes of `added` neither taken nor revoked

    def _valid(self, index: int) -> bool:
        expires_at = self.added[index].expires_at
        return index in self.present and (expires_at is None or self.now < expires_at)

    async def add(self, step: Add) -> None:
        lasts = None if step.minutes is None else self.now + timedelta(minutes=step.minutes)
        secret = f"secret-{self.example}-{len(self.added)}"
        practitioner = f"cred-{self.example}-{step.practitioner}"
        credential = Credential(hash_token(secret), step.kind, practitioner, self.now, lasts)
        await self.credentials.add(credential, self.now)
        self.present.add(len(self.added))
        self.added.append(credential)

    async def look(self, step: Look) -> None:
        if not self.added:
            return
        index = step.index % len(self.added)
        wanted, expected = self.added[index], self._valid(index)
        if step.take:
            got = await self.credentials.take(wanted.kind, wanted.token_hash, self.now)
            if expected:  # an expired one is not taken: the store may still hold it (revoke_all)
                self.present.discard(index)
        else:
            got = await self.credentials.find(wanted.kind, wanted.token_hash, self.now)
        event(f"{'take' if step.take else 'find'} {'found' if expected else 'not found'}")
        assert got == (wanted if expected else None), f"{wanted.kind} {index} at {self.now}"

    async def revoke(self, step: Revoke) -> None:
        if self.added:
            index = step.index % len(self.added)
            await self.credentials.revoke(self.added[index].kind, self.added[index].token_hash)
            self.present.discard(index)

    async def revoke_all(self, step: RevokeAll) -> None:
        practitioner = f"cred-{self.example}-{step.practitioner}"
        ended = {
            index
            for index in self.present
            if self.added[index].practitioner_id == practitioner and self.added[index].kind is step.kind
        }
        counted = await self.credentials.revoke_all(practitioner, step.kind)
        # expired ones may have been forgotten already: at least the valid ones, at most all
        assert sum(self._valid(index) for index in ended) <= counted <= len(ended)
        self.present -= ended


class CredentialPropertyContract:
    """Generated runs against the model. Fixture: `credentials`, empty."""

    pytestmark = pytest.mark.anyio

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=runs)
    async def test_found_exactly_while_valid(self, credentials: CredentialStore, steps: list[Step]) -> None:
        run = _Run(credentials)
        for step in steps:
            if isinstance(step, Add):
                await run.add(step)
            elif isinstance(step, Look):
                await run.look(step)
            elif isinstance(step, Revoke):
                await run.revoke(step)
            elif isinstance(step, RevokeAll):
                await run.revoke_all(step)
            else:
                run.now += timedelta(minutes=step.minutes)
