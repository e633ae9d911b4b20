"""booking_core.testing.fields: the field walk the round-trip contracts rely on to name a lost field."""

from __future__ import annotations

from datetime import timedelta

from attrs import evolve

from booking_core import Money
from booking_core.testing.contracts import sample_practitioner
from booking_core.testing.fields import differing_fields, fields_left_at_default


def test_a_field_left_at_its_default_is_named_by_its_path() -> None:
    practitioner = sample_practitioner()
    assert fields_left_at_default(practitioner) == []
    bare = evolve(practitioner, email=None, offer=evolve(practitioner.offer, slot_step=None))
    assert fields_left_at_default(bare) == ["email", "offer.slot_step"]


def test_one_element_of_a_container_setting_a_field_covers_it() -> None:
    practitioner = sample_practitioner()
    schedule = practitioner.schedule
    assert schedule.overrides[0].hours == ()  # a closed day, yet the other override has hours
    closed = evolve(schedule, overrides=schedule.overrides[:1])
    assert fields_left_at_default(evolve(practitioner, schedule=closed)) == ["schedule.overrides[].hours"]


def test_differences_are_named_at_the_deepest_field() -> None:
    practitioner = sample_practitioner()
    changed = evolve(
        practitioner,
        email=None,
        offer=evolve(practitioner.offer, price=Money(9001, "EUR"), horizon=timedelta(days=1)),
    )
    assert differing_fields(practitioner, changed) == {
        "offer.price.amount": (9000, 9001),
        "offer.horizon": (timedelta(days=90), timedelta(days=1)),
        "email": ("jane.doe@example.com", None),
    }
    assert differing_fields(practitioner, practitioner) == {}
    assert differing_fields([practitioner], []) == {"the value": ([practitioner], [])}


def test_a_field_set_in_any_of_several_samples_is_covered() -> None:
    practitioner = sample_practitioner()
    without_email = evolve(practitioner, email=None)
    assert fields_left_at_default(without_email) == ["email"]
    assert fields_left_at_default(without_email, practitioner) == []
