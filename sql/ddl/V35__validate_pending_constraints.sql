-- Validate the constraints added NOT VALID in V18, V30 and V33. VALIDATE
-- CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on.
ALTER TABLE broadcast_jobs VALIDATE CONSTRAINT broadcast_jobs_delivered_after_created;
ALTER TABLE messages VALIDATE CONSTRAINT fk_messages_baileys_session;
ALTER TABLE call_log VALIDATE CONSTRAINT call_log_recording_mode_check;
ALTER TABLE call_log VALIDATE CONSTRAINT call_log_recording_url_https;
