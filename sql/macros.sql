-- macros: exact parsing helpers shared by every validation query.
-- amount_error(text, exponent) gives the reason an amount string is unusable, or NULL.
-- amount_minor(text, scale) turns a validated decimal string into integer minor units, where
-- scale = 10^exponent. No float is involved: the integer and fraction parts are parsed as text.
CREATE OR REPLACE MACRO amount_error(t, e) AS CASE
    WHEN t IS NULL OR trim(t) = '' THEN 'missing required value'
    WHEN NOT regexp_full_match(trim(t), '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)')
        THEN 'not a decimal number: ''' || t || ''''
    WHEN e IS NULL THEN NULL
    WHEN length(rtrim(split_part(trim(t), '.', 2), '0')) > e
        THEN 'more decimal places than the currency has (' || e || '): ''' || t || ''''
    WHEN length(ltrim(regexp_replace(split_part(trim(t), '.', 1), '^[+-]', ''), '0')) > 14
        THEN 'amount too large: ''' || t || ''''
    ELSE NULL
END;

CREATE OR REPLACE MACRO amount_minor(t, e, scale) AS
    (CASE WHEN starts_with(trim(t), '-') THEN -1 ELSE 1 END) * (
        coalesce(try_cast(nullif(regexp_replace(split_part(trim(t), '.', 1), '^[+-]', ''), '')
            AS BIGINT), 0) * scale
        + coalesce(try_cast(nullif(rpad(rtrim(split_part(trim(t), '.', 2), '0'), e, '0'), '')
            AS BIGINT), 0)
    );
