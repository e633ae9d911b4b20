"""Time off: a span a practitioner blocks, in which nothing can be booked."""

from __future__ import annotations

from datetime import datetime

from attrs import field, frozen, validators

from booking_core.timerange import TimeRange

MAX_TIME_OFF_NOTE = 500


@frozen
class TimeOff:
    """A span of the practitioner's time that no booking may occupy: no slot whose occupied span
    (slot plus buffers) overlaps it is offered, and the store refuses such a booking as it refuses
    one overlapping another booking. Blocks may overlap each other."""

    id: str
    practitioner_id: str
    span: TimeRange
    created_at: datetime
    note: str = field(default="", validator=validators.max_len(MAX_TIME_OFF_NOTE))

    def is_over(self, now: datetime) -> bool:
        return self.span.end <= now
