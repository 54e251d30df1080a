-- Opening hours per weekday, and a SQL-standard function (BEGIN ATOMIC, PG14+)
-- that checks them. The columns are called "start" and "end": END is a reserved
-- word, so the identifier must be quoted, and a splitter must not take the
-- quoted "end" for the END that closes the function body.
CREATE TABLE business_hours (
    id         bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint   NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    weekday    smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: 1 = Monday
    "start"    time     NOT NULL,
    "end"      time     NOT NULL,  -- '24:00' = open until midnight
    CONSTRAINT business_hours_end_after_start CHECK ("end" > "start")
);

CREATE FUNCTION is_within_business_hours(p_tenant_id bigint, p_at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT EXISTS (
        SELECT 1
          FROM business AS b
          JOIN business_hours AS h ON h.tenant_id = b.id
         WHERE b.id = p_tenant_id
           AND h.weekday = extract(isodow FROM p_at AT TIME ZONE b.timezone)
           AND (p_at AT TIME ZONE b.timezone)::time >= h."start"
           AND (p_at AT TIME ZONE b.timezone)::time <  h."end"
    );
END;
