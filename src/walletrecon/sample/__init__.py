"""A seeded, vectorised generator of a realistic multi-night wallet data set with known breaks.

``generate`` writes one inbox folder per business date in the canonical profile of CONTRACT.md
(ledger, balances, settlement, receipts, bank), the matching ``walletrecon.toml`` and a
``truth.csv`` that lists every discrepancy injected on purpose, every deliberately bad input row
(type ``rejected``) and every identical re-delivery (type ``redelivered``). Clean data produces no
break at all: nothing is a break unless the truth file names it.

Everything is computed on integer numpy columns (money in integer minor units, instants in epoch
seconds, names as small codes) and turned into text by polars expressions only when a file is
written, so no float ever formats an amount and a million ledger rows a night take seconds. The
same seed gives byte-identical files.

The generator works night by night. Night ``n`` creates the ledger entries of business date ``n``
and derives their settlement lines and receipts, which may land in the inbox folders of ``n``,
``n + 1`` or ``n + 2``; the injections are applied to those integer tables; then folder ``n`` is
written (its ledger, the settlement lines and receipts routed to it, the bank lines of the payouts
of ``n - 1`` and the balances at the end of ``n``). Balances and bank amounts are computed from the
data as delivered, after every injection, so that each injection causes exactly one break.

Truth rows (``type,key,run_date,source,row_id,note``):

* ``key`` is the discrepancy key of CONTRACT.md; a gateway_ref key is in its canonical form
  (``GW-`` and 12 upper-case hex digits), so compare it case-insensitively after stripping.
* ``run_date`` is the first night the engine must report the break: item date + window for an
  absence (``missing_*``, ``payment_not_received``, a payout without bank line, a bank line naming
  no payout), the night both sides are delivered for a comparison (amount, fee, currency, status,
  sync delay), the night the copy is delivered for a duplicate, the bank line's night for a bank
  amount, the snapshot's night for a balance. Breaks due after the last night are left out.
* ``source``/``row_id`` name the row that carries the break: the ledger entry that lacks its
  counterpart, the changed or copied line, the bank line; ``settlement``/payout_id for a payout
  whose bank line was withheld; ``balances``/account_id for a balance.
* A ``balance_mismatch`` is a drift that starts on its night and stays: CONTRACT compares each
  snapshot with the previous *reported* balance, so a balance wrong on one night only would be
  two breaks (that night and the next). Some carry a ``cause`` (``balance_causes``): an entry
  the wallet counted early, posted just after the cut-off (``entry_after_cutoff``, wrong that
  night only, so the break continues the next night with the opposite difference), a payment
  entry the ledger booked twice (``duplicate_entry``, with its ``duplicate`` row) or a
  settlement fee the ledger never booked (``fee_not_booked``). Each account has at most one
  balance break.
* A ``payment_not_received`` with cause ``late_counterpart`` is a receipt delivered two nights
  late: the break of the night after the payment is resolved the night the receipt comes.
* ``rejected`` rows name deliberately bad input rows (extra rows under fresh ids) and
  ``redelivered`` rows the identical repeats of a row in the next night's file; for both, key and
  row_id are the row's id and run_date is the night of the file that holds it.

Modules: ``model`` (codes, weights, fee tables, the summary), ``tables`` (integer tables, counters,
truth frames), ``timeline`` (business days in the zone), ``fees`` (exact fee rates),
``formatting`` (integer columns to text), ``ledger`` (accounts, merchants and clean ledger
entries), ``derive`` (settlement lines and receipts), ``night``, ``injections`` and
``balance_causes`` (known breaks), ``flaws`` (bad rows), ``deliveries``, ``bank``, ``balances``
and ``files`` (what is written), and ``generation`` (the nights in order, and ``generate``).
"""

from walletrecon.sample.fees import FeeRates
from walletrecon.sample.generation import generate
from walletrecon.sample.model import CURRENCIES, GATEWAYS, SampleSummary

__all__ = ["CURRENCIES", "GATEWAYS", "FeeRates", "SampleSummary", "generate"]
