-- Per-tenant settings: TTS voice, push notifications, webhook signing secret.
-- push_enabled stays nullable: existing rows keep NULL (read as "not chosen"),
-- new rows get true from the default.
ALTER TABLE business
    ADD COLUMN voice_id       text,
    ADD COLUMN push_enabled   boolean,
    ADD COLUMN webhook_secret text;

ALTER TABLE business ALTER COLUMN push_enabled SET DEFAULT true;

-- sqlrail:allow constraint-not-valid reason="business has one row per tenant: validating at once scans a few hundred rows"
ALTER TABLE business
    ADD CONSTRAINT business_webhook_secret_length
    CHECK (webhook_secret IS NULL OR length(webhook_secret) >= 32);

COMMENT ON COLUMN business.webhook_secret IS
    'HMAC-SHA256 key for outgoing webhooks; rotate with the "webhook" settings page.';
