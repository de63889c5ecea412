-- registry_key_hits: where (file and row number) the registry rows of earlier nights lie whose
-- key hash ($key) is one of tonight's. Only the key column is read here: the hits' other columns
-- are then read from the row groups that hold them (history.key_lookup), so a night's cost
-- follows its hits, not the width of every earlier night's registry.
SELECT r.filename, r.file_row_number
FROM $registry AS r
SEMI JOIN tonight AS t ON r.$key = t.$key
