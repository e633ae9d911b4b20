"""The PaymentGateway contract (booking_core.testing.payment_contract) over every gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from booking_core.testing.payment_contract import GatewayRig, PaymentGatewayContract
from tests.contract.payment_fixtures import GATEWAYS


class TestPaymentGateway(PaymentGatewayContract):
    """Runs the contract over `payments`, one parameter per gateway."""

    @pytest.fixture(params=sorted(GATEWAYS))
    def payments(self, request: pytest.FixtureRequest) -> Iterator[GatewayRig]:
        yield from GATEWAYS[request.param]()
