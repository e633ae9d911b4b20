"""The port contracts (booking_core.testing.contracts) against every adapter in conftest.py."""

from __future__ import annotations

from booking_core.testing.bookings_of_contracts import BookingsOfContract
from booking_core.testing.calendar_feed_contract import CalendarFeedKeysContract
from booking_core.testing.contracts import (
    BookingStoreContract,
    OutboxContract,
    PractitionerDirectoryContract,
    PractitionerRemovalContract,
)
from booking_core.testing.credential_contracts import CredentialStoreContract
from booking_core.testing.move_contracts import MoveContract
from booking_core.testing.time_off_contracts import TimeOffContract


class TestBookingStore(BookingStoreContract):
    pass


class TestOutbox(OutboxContract):
    pass


class TestPractitionerDirectory(PractitionerDirectoryContract):
    pass


class TestPractitionerRemoval(PractitionerRemovalContract):
    pass


class TestCredentialStore(CredentialStoreContract):
    pass


class TestTimeOff(TimeOffContract):
    pass


class TestMove(MoveContract):
    pass


class TestBookingsOf(BookingsOfContract):
    pass


class TestCalendarFeedKeys(CalendarFeedKeysContract):
    pass
