"""The shipped port contracts (booking_core.testing) against every adapter in conftest.py: the
project's own adapters are proven by exactly the classes a third party subclasses."""

from __future__ import annotations

import pytest
from hypothesis import settings

from booking_core.testing.bookings_of_contracts import BookingsOfContract
from booking_core.testing.calendar_feed_contract import CalendarFeedKeysContract
from booking_core.testing.client_data_contracts import ClientDataContract, ClientRemindersContract
from booking_core.testing.client_data_properties import ClientErasurePropertyContract
from booking_core.testing.contracts import (
    BookingStoreContract,
    OutboxContract,
    PractitionerDirectoryContract,
    PractitionerRemovalContract,
)
from booking_core.testing.credential_contracts import CredentialStoreContract
from booking_core.testing.credential_properties import CredentialPropertyContract
from booking_core.testing.machine import AdaptersFactory, BookingMachineContract
from booking_core.testing.move_contracts import MoveContract
from booking_core.testing.outbox_properties import OutboxPropertyContract
from booking_core.testing.store_properties import StoreRuleContract
from booking_core.testing.time_off_contracts import TimeOffContract
from tests.contract.conftest import open_memory_adapters

SQL_MACHINE_EXAMPLES = 5


class TestBookingStore(BookingStoreContract):
    pass


class TestOutbox(OutboxContract):
    pass


class TestPractitionerDirectory(PractitionerDirectoryContract):
    pass


class TestPractitionerRemoval(PractitionerRemovalContract):
    pass


class TestCredentialStore(CredentialStoreContract, CredentialPropertyContract):
    pass


class TestTimeOff(TimeOffContract):
    pass


class TestMove(MoveContract):
    pass


class TestBookingsOf(BookingsOfContract):
    pass


class TestCalendarFeedKeys(CalendarFeedKeysContract):
    pass


class TestStoreRule(StoreRuleContract):
    pass


class TestOutboxProperty(OutboxPropertyContract):
    pass


class TestBookingMachine(BookingMachineContract):
    """Over the memory store, with the hypothesis profile's examples."""

    @pytest.fixture
    def open_adapters(self) -> AdaptersFactory:
        return open_memory_adapters


class TestBookingMachineOnSql(BookingMachineContract):
    """Over SQLite and PostgreSQL: each step is some forty statements (the invariants read every
    booking and every availability), so a few shorter runs; the rule property above covers the
    store's guarantee with the profile's examples."""

    machine_settings = settings(
        BookingMachineContract.machine_settings, max_examples=5, stateful_step_count=20
    )

    @pytest.fixture
    def open_adapters(self, open_sql_adapters: AdaptersFactory) -> AdaptersFactory:
        return open_sql_adapters


class TestClientData(ClientDataContract, ClientRemindersContract, ClientErasurePropertyContract):
    pass
