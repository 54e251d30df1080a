-- Receipts found in a user's Gmail mailbox; one row per Gmail message.
CREATE TABLE gmail_receipts (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    receipt_id        bigint      REFERENCES receipts (id) ON DELETE CASCADE,
    mailbox_user_id   bigint      REFERENCES business_users (id) ON DELETE SET NULL,
    gmail_message_id  text        NOT NULL,
    received_at       timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gmail_receipts_tenant_message_key UNIQUE (tenant_id, gmail_message_id)
);
