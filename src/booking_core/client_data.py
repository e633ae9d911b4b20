"""The client's data, its use cases together: a copy (client_export.py), erasure
(client_erasure.py) and retention (client_retention.py), built over the same ports."""

from __future__ import annotations

from attrs import frozen

from booking_core.client_erasure import ClientErasure
from booking_core.client_export import ClientDataExport
from booking_core.client_retention import ClientDataRetention
from booking_core.ports import BookingStore, ClientDataStore, Clock, SentMailCopies


@frozen
class ClientData:
    export: ClientDataExport
    erasure: ClientErasure
    retention: ClientDataRetention

    @classmethod
    def over(
        cls, store: BookingStore, client_data: ClientDataStore, mail: SentMailCopies, clock: Clock
    ) -> ClientData:
        erasure = ClientErasure(client_data, mail, clock)
        return cls(
            ClientDataExport(store, client_data, mail, clock),
            erasure,
            ClientDataRetention(client_data, erasure, clock),
        )
