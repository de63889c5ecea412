-- registry_known_keys: rows accepted on earlier nights that share a duplicate key (gateway_ref and
-- record type, or txn_id) with tonight's rows: a later row with such a key is a duplicate.
SELECT r.source, r.dup_key, r.row_id
FROM $registry AS r
SEMI JOIN tonight AS t ON r.source = t.source AND r.dup_key = t.dup_key
