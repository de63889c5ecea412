-- registry_payment_history: payment entries of earlier nights named by tonight's chargebacks,
-- by normalised gateway reference or by txn_id (the chargeback's merchant_ref).
SELECT r.row_id AS entry_id, r.txn_id, r.ref_norm
FROM $registry AS r
WHERE r.source = 'ledger'
  AND r.is_payment
  AND (r.ref_norm IN (SELECT ref_norm FROM refs) OR r.txn_id IN (SELECT merchant_ref FROM refs))
