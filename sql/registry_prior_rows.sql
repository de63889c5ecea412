-- registry_prior_rows: rows accepted on earlier nights that share (source, row_id) with tonight's
-- rows, to tell identical re-deliveries from conflicting re-uses of an id.
SELECT r.source, r.row_id, r.content_hash, r.origin
FROM $registry AS r
SEMI JOIN tonight AS t ON r.source = t.source AND r.row_id = t.row_id
