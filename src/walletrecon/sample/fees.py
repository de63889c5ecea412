"""Fee schedules as exact integer rates, and the net amount of a settlement line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from walletrecon.money import to_minor
from walletrecon.sample.model import (
    CURRENCIES,
    FEE_TABLES,
    GATEWAYS,
    SCHEDULED_TYPES,
    BoolArray,
    IntArray,
)


@dataclass(frozen=True)
class FeeRates:
    """The fee schedules as integer arrays indexed by gateway code (and currency code)."""

    numerator: IntArray
    denominator: IntArray
    fixed: IntArray
    scheduled: BoolArray

    @staticmethod
    def build() -> FeeRates:
        """Exact integer rates from FEE_TABLES: fee = gross * numerator / denominator + fixed."""
        numerator = np.zeros(len(GATEWAYS), dtype=np.int64)
        denominator = np.ones(len(GATEWAYS), dtype=np.int64)
        fixed = np.zeros((len(GATEWAYS), len(CURRENCIES)), dtype=np.int64)
        scheduled = np.zeros(len(GATEWAYS), dtype=np.bool_)
        for gateway, table in FEE_TABLES.items():
            code = GATEWAYS.index(gateway)
            top, bottom = Decimal(table.percent).as_integer_ratio()
            numerator[code], denominator[code] = top, bottom * 100
            scheduled[code] = True
            for currency, amount in table.fixed.items():
                fixed[code, CURRENCIES.index(currency)] = to_minor(Decimal(amount), currency)
        return FeeRates(numerator, denominator, fixed, scheduled)

    def expected_fee(
        self, gateway: IntArray, currency: IntArray, record_type: IntArray, gross: IntArray
    ) -> IntArray:
        """round_half_even(gross * percent / 100 + fixed) in minor units, 0 off schedule."""
        denominator = self.denominator[gateway]
        quotient, remainder = np.divmod(gross * self.numerator[gateway], denominator)
        twice = 2 * remainder
        round_up = (twice > denominator) | ((twice == denominator) & (quotient % 2 == 1))
        fee = quotient + round_up + self.fixed[gateway, currency]
        applies = self.scheduled[gateway] & np.isin(record_type, SCHEDULED_TYPES)
        return np.where(applies, fee, 0).astype(np.int64)


def net_amount(record_type: IntArray, gross: IntArray, fee: IntArray) -> IntArray:
    """gross - fee for payments and topups, -gross - fee for refunds and withdrawals."""
    inbound = np.isin(record_type, SCHEDULED_TYPES)
    return np.where(inbound, gross - fee, -gross - fee).astype(np.int64)
