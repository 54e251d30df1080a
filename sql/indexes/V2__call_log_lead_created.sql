-- A lead's calls in time order; serves the first-call lookup of backfills/V1.
CREATE INDEX CONCURRENTLY idx_call_log_lead_created ON call_log (lead_id, created_at, id);
