-- Give every business without one a default calendar (INSERT ... SELECT).
-- NOT EXISTS makes a re-run insert nothing; ON CONFLICT on the partial unique
-- index business_calendars_one_default covers a concurrent insert by the app.
INSERT INTO business_calendars (tenant_id, name, is_default)
SELECT b.id, 'Main calendar', true
  FROM business AS b
 WHERE b.id BETWEEN :lo AND :hi
   AND NOT EXISTS (
        SELECT 1
          FROM business_calendars AS c
         WHERE c.tenant_id = b.id
           AND c.is_default
       )
ON CONFLICT (tenant_id) WHERE is_default DO NOTHING;
