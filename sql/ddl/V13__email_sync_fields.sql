-- Gmail sync state per user. The boolean gets a constant default, which is
-- stored in the catalog (no table rewrite since PostgreSQL 11).
ALTER TABLE business_users
    ADD COLUMN email_sync_enabled   boolean     NOT NULL DEFAULT false,
    ADD COLUMN gmail_history_id     bigint,
    ADD COLUMN gmail_last_synced_at timestamptz;
