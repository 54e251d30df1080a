-- Lead list per tenant, newest first.
CREATE INDEX CONCURRENTLY idx_leads_tenant_created ON leads (tenant_id, created_at DESC);
