-- A plain DuckDB reconciliation of one night: the relations' joins and exact-decimal comparisons
-- (the rules in bench/peers/common.py), written the straightforward way, nothing tuned.
-- $ledger, $settlement, $receipts, $balances and $bank are the night's CSV files as quoted paths;
-- $opening is the previous night's balances as a relation (an empty one on the first night).
-- The last statement gives one row per relation with its counts. Amounts are trimmed before
-- TRY_CAST: white space carries no meaning, and DuckDB 2.0 would otherwise push the cast into
-- the CSV reader, where a bad amount ("12.3.4") stops the read instead of becoming NULL.

CREATE TEMP TABLE ledger AS
SELECT txn_id, account_id, entry_type, TRY_CAST(trim(amount) AS DECIMAL(38, 4)) AS amount, currency,
       status, posted_at, gateway_ref
FROM read_csv($ledger, header = true, all_varchar = true);

CREATE TEMP TABLE settlement AS
SELECT gateway_ref, TRY_CAST(trim(gross_amount) AS DECIMAL(38, 4)) AS gross_amount,
       TRY_CAST(trim(net_amount) AS DECIMAL(38, 4)) AS net_amount, currency, payout_id
FROM read_csv($settlement, header = true, all_varchar = true);

CREATE TEMP TABLE receipts AS
SELECT txn_id, TRY_CAST(trim(amount) AS DECIMAL(38, 4)) AS amount, currency
FROM read_csv($receipts, header = true, all_varchar = true);

CREATE TEMP TABLE bank AS
SELECT bank_line_id, TRY_CAST(trim(amount) AS DECIMAL(38, 4)) AS amount, currency, reference
FROM read_csv($bank, header = true, all_varchar = true);

CREATE TEMP TABLE balances AS
SELECT account_id, currency, TRY_CAST(trim(balance) AS DECIMAL(38, 4)) AS balance
FROM read_csv($balances, header = true, all_varchar = true);

CREATE TEMP TABLE opening AS
SELECT account_id, currency, TRY_CAST(trim(balance) AS DECIMAL(38, 4)) AS opening
FROM $opening;

WITH
entries AS (
    SELECT lower(trim(gateway_ref)) AS reference, abs(amount) AS amount, currency
    FROM ledger
    WHERE entry_type IN ('payment', 'refund', 'topup', 'withdrawal') AND gateway_ref IS NOT NULL
),
lines AS (
    SELECT lower(trim(gateway_ref)) AS reference, gross_amount, currency
    FROM settlement
    WHERE gateway_ref IS NOT NULL
),
settled AS (
    SELECT coalesce(e.currency = l.currency AND e.amount = l.gross_amount, false) AS agree
    FROM entries e JOIN lines l ON e.reference = l.reference
),
payments AS (
    SELECT txn_id, abs(amount) AS amount, currency FROM ledger WHERE entry_type = 'payment'
),
received AS (
    SELECT coalesce(p.currency = r.currency AND p.amount = r.amount, false) AS agree
    FROM payments p JOIN receipts r ON p.txn_id = r.txn_id
),
payouts AS (
    SELECT payout_id, currency, sum(net_amount) AS net_amount
    FROM settlement
    WHERE payout_id IS NOT NULL
    GROUP BY payout_id, currency
),
paid AS (
    SELECT p.payout_id, p.currency, b.bank_line_id,
           coalesce(p.currency = b.currency AND p.net_amount = b.amount, false) AS agree
    FROM payouts p JOIN bank b ON contains(lower(coalesce(b.reference, '')), lower(p.payout_id))
),
posted AS (
    SELECT account_id, currency, sum(amount) AS posted
    FROM ledger
    WHERE status = 'succeeded' AND posted_at IS NOT NULL
    GROUP BY account_id, currency
),
checked AS (
    SELECT coalesce(b.balance = coalesce(o.opening, 0) + coalesce(p.posted, 0), false) AS agree
    FROM balances b
    LEFT JOIN posted p ON p.account_id = b.account_id AND p.currency = b.currency
    LEFT JOIN opening o ON o.account_id = b.account_id AND o.currency = b.currency
)
SELECT 'settlement' AS relation,
       (SELECT count(*) FROM settled) AS pairs,
       (SELECT count(*) FILTER (WHERE agree) FROM settled) AS agree,
       (SELECT count(*) FILTER (WHERE NOT agree) FROM settled) AS differ,
       (SELECT count(*) FROM entries e
        WHERE NOT EXISTS (SELECT 1 FROM lines l WHERE l.reference = e.reference)) AS left_only,
       (SELECT count(*) FROM lines l
        WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.reference = l.reference)) AS right_only
UNION ALL
SELECT 'receipts',
       (SELECT count(*) FROM received),
       (SELECT count(*) FILTER (WHERE agree) FROM received),
       (SELECT count(*) FILTER (WHERE NOT agree) FROM received),
       (SELECT count(*) FROM payments p
        WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.txn_id = p.txn_id)),
       (SELECT count(*) FROM receipts r
        WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.txn_id = r.txn_id))
UNION ALL
SELECT 'payouts',
       (SELECT count(*) FROM paid),
       (SELECT count(*) FILTER (WHERE agree) FROM paid),
       (SELECT count(*) FILTER (WHERE NOT agree) FROM paid),
       (SELECT count(*) FROM payouts p
        WHERE NOT EXISTS (SELECT 1 FROM paid x
                          WHERE x.payout_id = p.payout_id AND x.currency = p.currency)),
       (SELECT count(*) FROM bank b
        WHERE NOT EXISTS (SELECT 1 FROM paid x WHERE x.bank_line_id = b.bank_line_id))
UNION ALL
SELECT 'balances',
       (SELECT count(*) FROM checked),
       (SELECT count(*) FILTER (WHERE agree) FROM checked),
       (SELECT count(*) FILTER (WHERE NOT agree) FROM checked),
       (SELECT count(*) FROM posted p
        WHERE NOT EXISTS (SELECT 1 FROM balances b
                          WHERE b.account_id = p.account_id AND b.currency = p.currency)),
       (SELECT count(*) FROM balances b
        WHERE NOT EXISTS (SELECT 1 FROM posted p
                          WHERE p.account_id = b.account_id AND p.currency = b.currency));
