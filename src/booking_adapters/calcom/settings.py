"""Cal.com settings from the environment, every problem reported at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from attrs import field, frozen

from booking_core import Practitioner

DEFAULT_API_BASE = "https://api.cal.com"


class UnreachablePolicy(StrEnum):
    """What a fresh re-check (right before holding a slot) does when Cal.com cannot answer."""

    REFUSE = "refuse"  # raise AvailabilityProviderError: the web answers 503, no risk of a double booking
    ALLOW = "allow"  # answer as the listing does (last good Cal.com answer, else the schedule)


class SlotTakenPolicy(StrEnum):
    """What happens here when Cal.com refuses a confirmed booking because its slot is taken there."""

    CANCEL_AND_REFUND = "cancel_and_refund"  # cancel here, refund in full; the client is told
    FLAG = "flag"  # keep the booking; the write-back gives up and stays visible as a delivery failure


def _positive(_instance: object, attribute: object, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be positive")


@frozen
class CalcomSettings:
    api_key: str | None = field(default=None, repr=False)  # never printed
    api_base: str = DEFAULT_API_BASE
    cache_ttl_seconds: float = field(default=60.0, validator=_positive)
    connect_timeout_seconds: float = field(default=3.0, validator=_positive)
    read_timeout_seconds: float = field(default=10.0, validator=_positive)
    retry_attempts: int = 3  # tries in all, the first included
    retry_first_delay_seconds: float = 0.5
    retry_max_delay_seconds: float = 8.0  # also the longest Retry-After we wait for within one request
    unreachable: UnreachablePolicy = UnreachablePolicy.REFUSE
    slot_taken: SlotTakenPolicy = SlotTakenPolicy.CANCEL_AND_REFUND

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CalcomSettings:
        """Read CALCOM_* variables; ValueError lists every invalid one."""
        problems: list[str] = []
        values: dict[str, object] = {}
        if env.get("CALCOM_API_KEY"):
            values["api_key"] = env["CALCOM_API_KEY"]
        base = env.get("CALCOM_API_BASE", DEFAULT_API_BASE).rstrip("/")
        if not base.startswith(("https://", "http://")):
            problems.append(f"CALCOM_API_BASE must be an http(s) URL, not {base!r}")
        values["api_base"] = base
        for name, key in (
            ("CALCOM_CACHE_TTL_SECONDS", "cache_ttl_seconds"),
            ("CALCOM_CONNECT_TIMEOUT_SECONDS", "connect_timeout_seconds"),
            ("CALCOM_READ_TIMEOUT_SECONDS", "read_timeout_seconds"),
        ):
            if name in env:
                try:
                    values[key] = float(env[name])
                    _positive(None, None, values[key])  # type: ignore[arg-type]
                except ValueError:
                    problems.append(f"{name} must be a positive number of seconds")
        for name, key, policy in (
            ("CALCOM_UNREACHABLE_POLICY", "unreachable", UnreachablePolicy),
            ("CALCOM_SLOT_TAKEN_POLICY", "slot_taken", SlotTakenPolicy),
        ):
            if name in env:
                try:
                    values[key] = policy(env[name])
                except ValueError:
                    problems.append(f"{name} must be one of {', '.join(p.value for p in policy)}")
        if problems:
            raise ValueError("; ".join(problems))
        return cls(**values)  # type: ignore[arg-type]

    def check_for(self, practitioners: Sequence[Practitioner]) -> None:
        """At start-up: a practitioner who names a Cal.com event type needs an API key."""
        named = [p.id for p in practitioners if p.calcom_event_type_id is not None]
        if named and not self.api_key:
            raise ValueError(
                f"CALCOM_API_KEY is not set, but practitioner(s) {', '.join(named)} take their "
                "availability from Cal.com"
            )
