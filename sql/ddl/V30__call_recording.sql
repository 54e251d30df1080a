-- Call recording settings per call. recording_mode has a constant default,
-- so adding it does not rewrite call_log.
ALTER TABLE call_log
    ADD COLUMN recording_mode text NOT NULL DEFAULT 'off',
    ADD COLUMN recording_url  text;

-- Both checks are NOT VALID here (no scan under the ALTER's lock) and validated in V35.
ALTER TABLE call_log
    ADD CONSTRAINT call_log_recording_mode_check
    CHECK (recording_mode IN ('off', 'auto', 'on_demand')) NOT VALID;

ALTER TABLE call_log
    ADD CONSTRAINT call_log_recording_url_https
    CHECK (recording_url IS NULL OR recording_url LIKE 'https://%') NOT VALID;
