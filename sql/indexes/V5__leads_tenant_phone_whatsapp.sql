-- Find a lead by WhatsApp number on an incoming message (partial: most leads have none).
CREATE INDEX CONCURRENTLY idx_leads_tenant_phone_whatsapp ON leads (tenant_id, phone_whatsapp) WHERE phone_whatsapp IS NOT NULL;
