-- registry_prior_rows: rows accepted on earlier nights whose row_id hash is one of tonight's, to
-- tell identical re-deliveries from updates and conflicting re-uses of an id (each night's
-- version, with the night that accepted it: the latest stands). The caller keeps the rows whose
-- source and row_id are tonight's (hashes can collide).
SELECT r.source, r.row_id, r.content_hash, r.stable_hash, r.status, r.origin, r.accepted_on,
       r.row_key
FROM $registry AS r
SEMI JOIN tonight AS t ON r.row_key = t.row_key
