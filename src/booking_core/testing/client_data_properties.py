"""The ClientDataStore, with the export and the erasure over it, as a property (see contracts.py for
how to subclass a contract): whatever bookings two clients made (held, paid, cancelled with a
reason naming the client; e-mails about them delivered or failing with an error that quotes the
address; reminders sent or failing likewise; each booking with the client's address in capitals or
not), each client's export holds exactly their bookings, with the deliveries and reminders of those,
and names no other client; and once one client is erased, nothing of theirs (name, address, phone,
in any case) is found in anything the export would show of their bookings, the export of their
address is empty, and every other client's export is as it was. Fixture: `client_reminders`, a
(store, client data, ReminderLedger) triple over the same empty data (as for
ClientRemindersContract); every example has clients, practitioners and an outbox channel of its own.

How many examples: the active hypothesis profile's (see store_properties.py to say otherwise)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from attrs import define, field, frozen
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking_core.booking import LIVE_STATUSES, Booking, BookingStatus, Trigger
from booking_core.client import ClientDetails
from booking_core.client_data import ClientData
from booking_core.client_export import ClientRecord
from booking_core.ports import ClientDataStore, ReminderLedger
from booking_core.reminders import Reminder
from booking_core.testing.contracts import NOW, StoreWithOutbox, hold, stored
from booking_core.testing.doubles import ManualClock, NoMailCopies
from booking_core.testing.transitions import take

_examples = itertools.count()
CLIENTS = 2
OFFSETS = (timedelta(hours=24), timedelta(hours=2))


@frozen
class Book:
    client: int
    shout: bool  # the address in capitals: the same client
    half_hour: int  # of DAY: the session starts then
    pay: bool


@frozen
class Cancel:
    booking: int


@frozen
class Deliver:
    fail: bool  # all that is due fails (given up), its error quoting the client's address


@frozen
class Remind:
    booking: int
    offset: int  # one of OFFSETS
    fail: bool  # the error quotes the client's address and name


Step = Book | Cancel | Deliver | Remind

_books = st.builds(Book, st.integers(0, CLIENTS - 1), st.booleans(), st.integers(0, 20), st.booleans())
runs = st.tuples(
    st.lists(_books, min_size=1, max_size=3),  # some bookings to begin with
    st.lists(
        st.one_of(
            _books,
            st.builds(Cancel, st.integers(0, 7)),
            st.builds(Deliver, st.booleans()),
            st.builds(Remind, st.integers(0, 7), st.integers(0, len(OFFSETS) - 1), st.booleans()),
        ),
        max_size=10,
    ),
).map(lambda run: [*run[0], *run[1]])


@define
class _Run:
    store: StoreWithOutbox
    client_data: ClientDataStore
    ledger: ReminderLedger
    example: int = field(factory=lambda: next(_examples))
    now: datetime = NOW  # a minute on with each booking: the export lists them by creation
    bookings: list[str] = field(factory=list)
    current: dict[str, Booking] = field(factory=dict)  # each booking as stored
    owner: dict[str, int] = field(factory=dict)  # booking -> its client
    reminded: set[tuple[str, timedelta]] = field(factory=set)  # (booking, offset) sent or failed

    @property
    def channel(self) -> str:
        return f"email:client-data-{self.example}"

    def client(self, number: int) -> ClientDetails:
        """Details no other client of any example shares, none part of another's."""
        return ClientDetails(
            f"Name{self.example}x{number} Example",
            f"client.{self.example}.{number}@example.com",
            f"+4930{self.example:07d}{number}",
        )

    async def book(self, step: Book) -> None:
        number = len(self.bookings)
        self.now += timedelta(minutes=1)
        details = self.client(step.client)
        if step.shout:
            details = ClientDetails(details.name, details.email.upper(), details.phone)
        booking, placed = hold(
            f"cd{self.example}-{number}",
            step.half_hour * 30,
            practitioner_id=f"client-data-{self.example}-{number}",
            at=self.now,
            client=details,
        )
        await self.store.add_if_free(booking, placed)
        if step.pay:
            paid, confirmed = take(booking, Trigger.PAYMENT_CONFIRMED, self.now)
            await self.store.save(booking, paid, confirmed)
            booking = paid
        self.bookings.append(booking.id)
        self.current[booking.id] = booking
        self.owner[booking.id] = step.client

    def _pick(self, index: int) -> Booking | None:
        return self.current[self.bookings[index % len(self.bookings)]] if self.bookings else None

    async def cancel(self, step: Cancel) -> None:
        booking = self._pick(step.booking)
        if booking is None or booking.status not in LIVE_STATUSES:
            return
        details = booking.client
        reason = f"{details.name} asked; call {details.phone} or write to {details.email}"
        after, cancelled = take(booking, Trigger.CANCELLED, self.now, reason=reason)
        await self.store.save(booking, after, cancelled)
        self.current[booking.id] = after

    async def deliver(self, step: Deliver) -> None:
        for item in await self.store.claim(self.channel, self.now):
            if step.fail:
                email = self.client(self.owner[item.event.booking_id]).email
                await self.store.mark_failed(
                    self.channel, item.seq, self.now, f"550 <{email}>: unknown", None
                )
            else:
                await self.store.mark_delivered(self.channel, [item.seq], self.now)

    async def remind(self, step: Remind) -> None:
        booking = self._pick(step.booking)
        if booking is None or booking.status is not BookingStatus.CONFIRMED:
            return
        reminder = Reminder(booking.id, booking.slot.start, OFFSETS[step.offset])
        if not await self.ledger.claim([reminder], self.now):
            return  # sent, or failed and waiting for its retry
        if step.fail:
            error = f"550 {booking.client.email.upper()} ({booking.client.name}) unknown"
            await self.ledger.mark_failed(reminder, self.now, error, self.now + timedelta(hours=1))
        else:
            await self.ledger.mark_sent([reminder], self.now)
        self.reminded.add((booking.id, reminder.offset))


def _shown(record: object) -> str:
    """Everything of `record` as text, to search ignoring case."""
    return repr(record).casefold()


def _ids(record: ClientRecord) -> list[str]:
    return [booking.booking.id for booking in record.bookings]


def _found(details: ClientDetails, text: str) -> list[str]:
    return [detail for detail in (details.name, details.email, details.phone) if detail.casefold() in text]


class ClientErasurePropertyContract:
    """Generated bookings of two clients, exported, then one of them erased. Fixture:
    `client_reminders`, a (store, client data, ledger) triple over the same empty data."""

    pytestmark = pytest.mark.anyio

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=runs, pick=st.integers(0, 7))
    async def test_an_erased_clients_details_are_found_nowhere_and_others_are_kept(
        self,
        client_reminders: tuple[StoreWithOutbox, ClientDataStore, ReminderLedger],
        steps: Sequence[Step],
        pick: int,  # the erased client: the one who made this booking
    ) -> None:
        store, client_data, ledger = client_reminders
        run = _Run(store, client_data, ledger)
        await store.claim(run.channel, NOW)  # the channel starts here: earlier events are not its
        for step in steps:
            if isinstance(step, Book):
                await run.book(step)
            elif isinstance(step, Cancel):
                await run.cancel(step)
            elif isinstance(step, Deliver):
                await run.deliver(step)
            else:
                await run.remind(step)
        erased = run.owner[run.bookings[pick % len(run.bookings)]]
        clock = ManualClock(NOW + timedelta(days=2))  # every session is over
        data = ClientData.over(store, client_data, NoMailCopies(), clock)
        clients = [run.client(number) for number in range(CLIENTS)]

        before = [await data.export.export(client.email) for client in clients]
        for number, record in enumerate(before):
            assert _ids(record) == [b for b in run.bookings if run.owner[b] == number]
            reminded = {(r.booking_id, r.reminder.offset) for b in record.bookings for r in b.reminders}
            assert reminded == {(b, offset) for b, offset in run.reminded if run.owner[b] == number}
            for other in clients[:number] + clients[number + 1 :]:
                assert not _found(other, _shown(record)), f"{record.email}'s export names another client"
        event(f"{len(before[erased].bookings)} bookings of the client erased")
        event(f"{len(before[1 - erased].bookings)} bookings of the other kept")

        outcome = await data.erasure.erase(clients[erased].email.upper())
        assert outcome.bookings == len(before[erased].bookings)
        mine = [b for b in run.bookings if run.owner[b] == erased]
        left = [
            *[(await stored(store, booking_id), await store.history(booking_id)) for booking_id in mine],
            await client_data.deliveries_of(mine),
            await client_data.reminders_of(mine),
        ]
        assert not _found(clients[erased], _shown(left)), "the erased client is still found"
        assert (await data.export.export(clients[erased].email)).bookings == []
        for number, client in enumerate(clients):
            if number != erased:
                assert await data.export.export(client.email) == before[number], f"{client.email} changed"
