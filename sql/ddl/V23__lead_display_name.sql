-- How a lead is shown in lists: a SQL-standard function body (BEGIN ATOMIC)
-- whose single statement holds a CASE ... END before the body's own END.
CREATE FUNCTION lead_display_name(p_first text, p_last text, p_company text, p_phone text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
               WHEN btrim(concat_ws(' ', p_first, p_last)) <> ''
                   THEN btrim(concat_ws(' ', p_first, p_last))
               WHEN btrim(p_company) <> '' THEN btrim(p_company)
               ELSE coalesce(p_phone, '(no name)')
           END;
END;
