-- normalize_phone('0049 (151) 234-5678') = '+491512345678'. Idempotent:
-- normalize_phone(normalize_phone(x)) = normalize_phone(x). NULL when no digits.
-- The body is quoted with a tagged dollar quote; the '$$' string inside it does not end it.
CREATE FUNCTION normalize_phone(raw text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    digits text := regexp_replace(raw, '[^0-9]', '', 'g');
BEGIN
    -- "00" is the international call prefix: 0049... becomes +49...
    IF left(digits, 2) = '00' THEN
        digits := substr(digits, 3);
    END IF;
    IF digits = '' THEN
        RETURN NULL;  -- nothing usable, e.g. 'n/a' or '$$'
    END IF;
    RETURN '+' || digits;
END;
$fn$;
