-- When the last recipient of a job got the message. NULL while sending.
ALTER TABLE broadcast_jobs ADD COLUMN delivered_at timestamptz;

-- NOT VALID: no scan of broadcast_jobs under this ALTER's lock; validated in V35.
ALTER TABLE broadcast_jobs
    ADD CONSTRAINT broadcast_jobs_delivered_after_created
    CHECK (delivered_at IS NULL OR delivered_at >= created_at) NOT VALID;
