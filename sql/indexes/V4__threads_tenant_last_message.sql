-- Inbox: a tenant's threads, most recent conversation first.
CREATE INDEX CONCURRENTLY idx_threads_tenant_last_message ON threads (tenant_id, last_message_at DESC NULLS LAST);
