"""The contract of `ClientDataStore` (a client's bookings by e-mail, what the outbox did with them,
their anonymisation, and those due under retention): subclass it and give it a fixture
`client_stores`, a (store, client data) pair over the same empty data, where the store is also the
outbox (`StoreWithOutbox`). Helpers are BookingStoreContract's (booking_core.testing.contracts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from booking_core.booking import Trigger
from booking_core.client import ERASED, ClientDetails
from booking_core.errors import ConcurrentUpdate
from booking_core.ports import ClientDataStore
from booking_core.testing.contracts import ANN, DAY, NOW, StoreWithOutbox, client, hold, stored, transition

ANN_AGAIN = ClientDetails("Ann E.", "ANN@Example.com", "+49301234568")  # the same address, in capitals
Stores = tuple[StoreWithOutbox, ClientDataStore]


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
