-- Covers fk_leads_assigned_user, so deleting a user does not scan leads.
CREATE INDEX CONCURRENTLY idx_leads_assigned_user ON leads (assigned_user_id) WHERE assigned_user_id IS NOT NULL;
