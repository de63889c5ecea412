-- macros: exact parsing helpers shared by every validation query.
-- amount_parts(text) splits a plain decimal string into its sign, whole and fraction digits
-- (NULL when the text is not a plain decimal number); amount_minor(parts, exponent, scale) turns
-- validated parts into integer minor units, scale = 10^exponent. No float is involved: the digits
-- are parsed as text and assembled with integer arithmetic.
CREATE OR REPLACE MACRO amount_parts(t) AS
    CASE WHEN regexp_full_match(t, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)')
        THEN regexp_extract(t, '^([+-]?)([0-9]*)[.]?([0-9]*)$', ['sign', 'whole', 'fraction'])
    END;

CREATE OR REPLACE MACRO amount_minor(parts, e, scale) AS
    (CASE WHEN parts.sign = '-' THEN -1 ELSE 1 END) * (
        coalesce(try_cast(nullif(parts.whole, '') AS BIGINT), 0) * scale
        + coalesce(try_cast(nullif(rpad(rtrim(parts.fraction, '0'), e, '0'), '') AS BIGINT), 0)
    );
