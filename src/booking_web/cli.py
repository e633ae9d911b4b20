"""The `booking` command."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from booking_adapters.memory import FakePaymentGateway, MemoryBookingStore, MemoryDirectory, RecordingNotifier
from booking_adapters.system import SecureIds, SystemClock
from booking_core import BookingService, ScheduleSource, TimeRange, zone
from booking_web.demo import DEMO_PRACTITIONERS


async def _print_demo_availability() -> None:
    clock = SystemClock()
    service = BookingService(
        MemoryDirectory.of(DEMO_PRACTITIONERS),
        MemoryBookingStore(),
        ScheduleSource(),
        FakePaymentGateway(),
        RecordingNotifier(),
        clock,
        SecureIds(b"demo"),
    )
    window = TimeRange.of(clock.now(), timedelta(days=7))
    for practitioner in DEMO_PRACTITIONERS:
        availability = await service.list_availability(practitioner.id, window)
        tz = zone(practitioner.timezone)
        print(
            f"{practitioner.name} ({practitioner.timezone}): {len(availability.slots)} free slots this week"
        )
        for slot in availability.slots[:5]:
            print(f"  {slot.start.astimezone(tz):%a %d %b %H:%M}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="booking")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the booking service (for now: print demo availability)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_print_demo_availability())
