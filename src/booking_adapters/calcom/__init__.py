"""Cal.com API v2: availability (cached, degrading gracefully) and the write-back of bookings.

The composition root opens one `Calcom` per process with `open_calcom(settings)`, uses
`.source(ScheduleSource())` as the BookingService's availability and `.channel(store=...,
directory=..., clock=..., cancellations=service)` as an OutboxRelay channel, and calls `aclose()`
at shutdown. See docs/calcom.md.
"""

from booking_adapters.extras import missing_extra

try:
    from booking_adapters.calcom.adapter import Calcom, open_calcom
    from booking_adapters.calcom.client import CalcomAttendee, CalcomClient, CalcomNotFound, CalcomSlotTaken
    from booking_adapters.calcom.settings import CalcomSettings, SlotTakenPolicy, UnreachablePolicy
    from booking_adapters.calcom.source import CalcomSource
    from booking_adapters.calcom.writeback import CHANNEL_NAME, CalcomWriteback
except ModuleNotFoundError as missing:
    raise missing_extra(missing, __name__, "calcom") from missing

__all__ = [
    "CHANNEL_NAME",
    "Calcom",
    "CalcomAttendee",
    "CalcomClient",
    "CalcomNotFound",
    "CalcomSettings",
    "CalcomSlotTaken",
    "CalcomSource",
    "CalcomWriteback",
    "SlotTakenPolicy",
    "UnreachablePolicy",
    "open_calcom",
]
