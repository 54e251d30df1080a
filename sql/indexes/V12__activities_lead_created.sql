-- A lead's timeline, newest first.
CREATE INDEX CONCURRENTLY idx_activities_lead_created ON activities (lead_id, created_at DESC);
