-- Mark a reminder done and record it on the lead's timeline. A BEGIN ATOMIC
-- body with two statements; the UPDATE and INSERT run when the function is
-- called, so they are not data changes made by this migration.
CREATE FUNCTION complete_reminder(p_reminder_id bigint) RETURNS void
LANGUAGE sql
BEGIN ATOMIC
    UPDATE reminders
       SET done_at = now()
     WHERE id = p_reminder_id
       AND done_at IS NULL;
    INSERT INTO activities (tenant_id, lead_id, kind, payload)
    SELECT r.tenant_id, r.lead_id, 'reminder_done',
           jsonb_build_object('reminder_id', r.id, 'note', r.note)
      FROM reminders AS r
     WHERE r.id = p_reminder_id;
END;
