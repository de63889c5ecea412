-- registry_prior_rows: rows accepted on earlier nights whose row_id hash is one of tonight's, to
-- tell identical re-deliveries from conflicting re-uses of an id. The caller keeps the rows whose
-- source and row_id are tonight's (hashes can collide).
SELECT r.source, r.row_id, r.content_hash, r.origin, r.row_key
FROM $registry AS r
SEMI JOIN tonight AS t ON r.row_key = t.row_key
