"""What this process has heard of changes, per practitioner, for the memories that must forget them
(the availability answers, the busy spans): a ticket taken before a read from the database is still
good after it only if no change to that practitioner, and no gap in the change feed, came since."""

from __future__ import annotations

# (epoch, generation): a plain tuple, one is taken on every miss.
Ticket = tuple[int, int]


class ChangeTickets:
    def __init__(self) -> None:
        self._epoch = 0  # bumped by clear(): every ticket is void
        self._generations: dict[str, int] = {}  # bumped by changed(practitioner_id)

    def ticket(self, practitioner_id: str) -> Ticket:
        return self._epoch, self._generations.get(practitioner_id, 0)

    def changed(self, practitioner_id: str) -> None:
        """The practitioner or their bookings changed: tickets taken before are void."""
        self._generations[practitioner_id] = self._generations.get(practitioner_id, 0) + 1

    def clear(self) -> None:
        """Changes may have been missed: every ticket is void."""
        self._epoch += 1  # tickets taken before are void, so the generations can start again
        self._generations.clear()
