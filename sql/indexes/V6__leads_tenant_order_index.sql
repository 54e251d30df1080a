-- Lead board sorted by manual position.
CREATE INDEX CONCURRENTLY idx_leads_tenant_order_index ON leads (tenant_id, order_index);
