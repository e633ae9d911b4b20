"""The contract of `ClientDataStore` (a client's bookings by e-mail, what the outbox did with them,
their anonymisation, and those due under retention): subclass it and give it a fixture
`client_stores`, a (store, client data) pair over the same empty data, where the store is also the
outbox (`StoreWithOutbox`). Helpers are BookingStoreContract's (booking_core.testing.contracts).

The reminders sent of a client's bookings are theirs too: `ClientRemindersContract` takes a fixture
`client_reminders`, a (store, client data, ReminderLedger) triple over the same empty data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from booking_core.booking import Trigger
from booking_core.client import ERASED, ClientDetails
from booking_core.client_export import ClientDataExport
from booking_core.errors import ConcurrentUpdate
from booking_core.offer import Offer
from booking_core.ports import ClientDataStore, ReminderLedger, ReminderRecord
from booking_core.reminders import Reminder
from booking_core.testing.contracts import ANN, DAY, NOW, StoreWithOutbox, client, hold, stored, transition
from booking_core.testing.doubles import ManualClock, NoMailCopies
from booking_core.timerange import TimeRange

ANN_AGAIN = ClientDetails("Ann E.", "ANN@Example.com", "+49301234568")  # the same address, in capitals
Stores = tuple[StoreWithOutbox, ClientDataStore]
WithLedger = tuple[StoreWithOutbox, ClientDataStore, ReminderLedger]
DAY_BEFORE, SOON_BEFORE = timedelta(hours=24), timedelta(hours=2)


async def _paid(store: StoreWithOutbox, booking_id: str, start_minute: int, held: ClientDetails) -> None:
    booking, event = hold(
        booking_id, start_minute, client=held, client_address="203.0.113.0", request_hash="ab"
    )
    await store.add_if_free(booking, event)
    await store.save(booking, *transition(booking, Trigger.PAYMENT_CONFIRMED, NOW))


class ClientDataContract:
    pytestmark = pytest.mark.anyio

    async def test_a_clients_bookings_are_found_by_address_ignoring_case(self, client_stores: Stores) -> None:
        store, client_data = client_stores
        await _paid(store, "b2", 10 * 60, ANN_AGAIN)
        await store.add_if_free(*hold("b1", 9 * 60, client=ANN, at=NOW - timedelta(minutes=5)))
        await _paid(store, "other", 11 * 60, client(1))
        assert [b.id for b in await client_data.bookings_of_client("ann@EXAMPLE.com")] == ["b1", "b2"]
        assert await client_data.bookings_of_client("nobody@example.com") == []

    async def test_anonymising_replaces_the_details_and_keeps_times_and_money(
        self, client_stores: Stores
    ) -> None:
        store, client_data = client_stores
        await _paid(store, "b1", 9 * 60, ANN)
        await _paid(store, "other", 11 * 60, client(1))
        before = await stored(store, "b1")
        cancelled, event = transition(before, Trigger.CANCELLED, NOW)
        await store.save(before, cancelled, evolve(event, reason="Ann Example is ill; call +49301234567"))
        kept, other = await stored(store, "b1"), await stored(store, "other")
        at = NOW + timedelta(days=1)
        assert await client_data.anonymise(["b1"], ERASED, [ANN.name, ANN.email, ANN.phone], at) == 1
        erased = await stored(store, "b1")
        assert erased == evolve(
            kept,
            client=ERASED,
            client_address=None,
            request_hash=None,
            version=kept.version + 1,
            updated_at=at,
        )
        assert erased.client.is_erased
        reasons = [e.reason for e in await store.history("b1")]
        assert reasons[-1] == "[erased] is ill; call [erased]" and not any("Ann" in r for r in reasons)
        assert await stored(store, "other") == other  # another client's: untouched
        assert await client_data.bookings_of_client(ANN.email) == []
        with pytest.raises(ConcurrentUpdate):  # a change made from the details read before: refused
            await store.save(kept, evolve(kept, version=kept.version + 1), None)

    async def test_deliveries_are_listed_with_their_events_and_errors_scrubbed(
        self, client_stores: Stores
    ) -> None:
        store, client_data = client_stores
        await store.claim("email:client", NOW)  # the channel starts here
        await _paid(store, "b1", 9 * 60, ANN)
        await _paid(store, "other", 11 * 60, client(1))
        items = await store.claim("email:client", NOW)
        mine = [item for item in items if item.event.booking_id == "b1"]
        await store.mark_delivered("email:client", [mine[0].seq], NOW)
        await store.mark_failed("email:client", mine[1].seq, NOW, "550 ann@example.com unknown", None)
        records = await client_data.deliveries_of(["b1"])
        assert [(r.seq, r.channel, r.attempts, r.event) for r in records] == [
            (mine[0].seq, "email:client", 0, mine[0].event),
            (mine[1].seq, "email:client", 1, mine[1].event),
        ]
        assert records[0].delivered_at == NOW and records[1].delivered_at is None
        assert records[1].last_error == "550 ann@example.com unknown"
        await client_data.anonymise(["b1"], ERASED, [ANN.email], NOW)
        [_, failed] = await client_data.deliveries_of(["b1"])
        assert failed.last_error == "550 [erased] unknown"
        assert await client_data.deliveries_of([]) == []

    async def test_sessions_ended_with_details_are_due_earliest_end_first(
        self, client_stores: Stores
    ) -> None:
        store, client_data = client_stores
        for index, start in enumerate((11 * 60, 9 * 60, 10 * 60, 15 * 60)):
            await _paid(store, f"b{index}", start, client(index))
        end_of_b0 = DAY + timedelta(minutes=11 * 60 + 50)
        assert [b.id for b in await client_data.identified_sessions_ended(end_of_b0)] == ["b1", "b2", "b0"]
        assert [b.id for b in await client_data.identified_sessions_ended(end_of_b0, limit=1)] == ["b1"]
        await client_data.anonymise(["b2"], ERASED, [], NOW)
        assert [b.id for b in await client_data.identified_sessions_ended(end_of_b0)] == ["b1", "b0"]


class ClientRemindersContract:
    pytestmark = pytest.mark.anyio

    async def test_the_reminders_sent_or_failed_are_the_clients_and_in_the_export(
        self, client_reminders: WithLedger
    ) -> None:
        store, client_data, ledger = client_reminders
        await _paid(store, "b1", 9 * 60, ANN)
        await _paid(store, "b2", 11 * 60, client(1))
        mine, theirs = await stored(store, "b1"), await stored(store, "b2")
        day_before, soon_before, only_claimed = (
            Reminder("b1", mine.slot.start, DAY_BEFORE),
            Reminder("b1", mine.slot.start, SOON_BEFORE),
            Reminder("b1", mine.slot.start, timedelta(hours=1)),
        )
        other = Reminder("b2", theirs.slot.start, DAY_BEFORE)
        at = NOW + timedelta(hours=1)
        claimed = [soon_before, only_claimed, day_before, other]
        assert await ledger.claim(claimed, at) == claimed
        await ledger.mark_sent([day_before, other], at)
        retry_at = at + timedelta(minutes=5)
        await ledger.mark_failed(soon_before, at, "421 try later", retry_at)
        (again,) = await ledger.claim([soon_before], retry_at)
        await ledger.mark_failed(
            again, retry_at, "550 ann@example.com unknown", retry_at + timedelta(hours=1)
        )

        expected = [
            ReminderRecord(day_before, at, 0, ""),
            ReminderRecord(soon_before, None, 2, "550 ann@example.com unknown"),
        ]
        assert await client_data.reminders_of(["b1"]) == expected
        assert await client_data.reminders_of(["b2", "b1"]) == [*expected, ReminderRecord(other, at, 0, "")]
        assert await client_data.reminders_of(["nobody"]) == [] and await client_data.reminders_of([]) == []
        export = ClientDataExport(store, client_data, NoMailCopies(), ManualClock(at))
        (record,) = (await export.export("ANN@example.com")).bookings
        assert (record.booking.id, record.reminders) == ("b1", expected)

    async def test_a_moved_bookings_earlier_reminder_stays_on_record(
        self, client_reminders: WithLedger
    ) -> None:
        store, client_data, ledger = client_reminders
        await _paid(store, "b1", 9 * 60, ANN)
        booking = await stored(store, "b1")
        first = Reminder("b1", booking.slot.start, DAY_BEFORE)
        await ledger.claim([first], first.due_at)
        await ledger.mark_sent([first], first.due_at)
        later = TimeRange.of(booking.slot.start + timedelta(days=2), booking.slot.duration)
        moved, event = booking.reschedule(
            later,
            offer=Offer(booking.slot.duration, booking.price),
            at=first.due_at + timedelta(minutes=1),
            reason="moved",
            by_practitioner=True,
        )
        assert event is not None
        await store.save(booking, moved, event)
        second = Reminder("b1", later.start, DAY_BEFORE)
        assert await ledger.claim([second], second.due_at) == [second]
        await ledger.mark_sent([second], second.due_at)
        assert await client_data.reminders_of(["b1"]) == [
            ReminderRecord(first, first.due_at, 0, ""),
            ReminderRecord(second, second.due_at, 0, ""),
        ]

    async def test_anonymising_scrubs_failed_reminders_errors(self, client_reminders: WithLedger) -> None:
        store, client_data, ledger = client_reminders
        await _paid(store, "b1", 9 * 60, ANN)
        await _paid(store, "b2", 11 * 60, client(1))
        error = f"550 <{ANN.email.upper()}>: no such user ({ANN.name}, {ANN.phone})"
        failed = []
        for booking_id in ("b1", "b2"):
            reminder = Reminder(booking_id, (await stored(store, booking_id)).slot.start, DAY_BEFORE)
            await ledger.claim([reminder], NOW)
            await ledger.mark_failed(reminder, NOW, error, NOW + timedelta(minutes=5))
            failed.append(reminder)
        await client_data.anonymise(["b1"], ERASED, [ANN.name, ANN.email, ANN.phone], NOW)
        assert await client_data.reminders_of(["b1", "b2"]) == [
            ReminderRecord(failed[0], None, 1, "550 <[erased]>: no such user ([erased], [erased])"),
            ReminderRecord(failed[1], None, 1, error),  # another client's booking: untouched
        ]
