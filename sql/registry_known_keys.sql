-- registry_known_keys: rows accepted on earlier nights whose duplicate-key hash (gateway_ref and
-- record type, or txn_id) is one of tonight's: a later row with such a key is a duplicate. The
-- caller keeps the rows whose source and dup_key are tonight's (hashes can collide).
SELECT r.source, r.dup_key, r.row_id, r.dup_hash
FROM $registry AS r
SEMI JOIN tonight AS t ON r.dup_hash = t.dup_hash
