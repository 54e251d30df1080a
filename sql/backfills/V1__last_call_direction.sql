-- leads.last_call_direction := direction of the lead's first call (earliest
-- call_log.created_at, ties broken by call_log.id). Leads without calls stay NULL.
-- call_log is read for this key range only (idx_call_log_lead_created);
-- "IS NULL" makes a re-run of a range change nothing.
UPDATE leads AS l
   SET last_call_direction = first_call.direction
  FROM (
        SELECT DISTINCT ON (c.lead_id) c.lead_id, c.direction
          FROM call_log AS c
         WHERE c.lead_id BETWEEN :lo AND :hi
         ORDER BY c.lead_id, c.created_at, c.id
       ) AS first_call
 WHERE l.id = first_call.lead_id
   AND l.id BETWEEN :lo AND :hi
   AND l.last_call_direction IS NULL;
