"""Money as integer minor units plus an ISO 4217 currency; never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from attrs import field, frozen

# Stripe's lists of currencies whose minor unit is not 1/100 of the major unit.
_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def minor_unit_exponent(currency: str) -> int:
    code = _currency(currency)
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


@frozen
class Money:
    amount: int
    currency: str = field(converter=_currency)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"amount must be a non-negative integer of minor units, not {self.amount!r}")

    @classmethod
    def parse(cls, major: str, currency: str) -> Money:
        """`Money.parse("90.00", "EUR")` -> 9000 cents; rejects more precision than the currency has."""
        exponent = minor_unit_exponent(currency)
        try:
            value = Decimal(major.strip())
        except InvalidOperation:
            raise ValueError(f"{major!r} is not a decimal amount") from None
        minor = value.scaleb(exponent)
        if not value.is_finite() or minor != minor.to_integral_value():
            raise ValueError(f"{major!r} has more decimals than {currency} allows")
        return cls(int(minor), currency)

    def format_major(self) -> str:
        exponent = minor_unit_exponent(self.currency)
        return f"{Decimal(self.amount).scaleb(-exponent):.{exponent}f}"

    def __str__(self) -> str:
        return f"{self.format_major()} {self.currency}"
