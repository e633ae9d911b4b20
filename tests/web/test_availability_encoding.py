"""A computed availability answer is encoded without the converter (`AvailabilityJson.encoded`, the
fast path); it must be the converter's answer (`json_response(AvailabilityJson.of(...))`), byte for
byte, whatever the slots, the time zone (DST changes included) or the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core import Availability, AvailabilitySourceName
from booking_core.testing.strategies import TIMEZONES, time_ranges
from booking_web.answers import AvailabilityJson
from booking_web.converter import json_response

availabilities = st.builds(
    Availability,
    practitioner_id=st.text(),
    window=time_ranges(),
    slots=st.lists(time_ranges(max_minutes=3 * 60), max_size=40).map(tuple),
    source=st.sampled_from(AvailabilitySourceName),
    service_id=st.text(),
)


@settings(max_examples=200)
@given(availabilities, st.sampled_from((*TIMEZONES, "Asia/Tokyo", "America/Los_Angeles")))
def test_the_encoded_answer_is_the_converters(availability: Availability, timezone: str) -> None:
    slow = bytes(json_response(AvailabilityJson.of(availability, timezone)).body)
    assert AvailabilityJson.encoded(availability, timezone) == slow
