-- Delivery progress of a broadcast job; serves backfills/V5.
CREATE INDEX CONCURRENTLY idx_broadcast_recipients_job_delivered ON broadcast_recipients (job_id, delivered_at);
