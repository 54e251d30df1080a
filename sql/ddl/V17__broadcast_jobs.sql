-- Bulk sends to many leads, and one row per recipient.
CREATE TYPE broadcast_status AS ENUM ('queued', 'sending', 'sent', 'failed');

CREATE TABLE broadcast_jobs (
    id             bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      bigint           NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    created_by     bigint           REFERENCES business_users (id) ON DELETE SET NULL,
    channel        text             NOT NULL CHECK (channel IN ('whatsapp', 'email', 'sms')),
    message_body   text             NOT NULL,
    status         broadcast_status NOT NULL DEFAULT 'queued',
    scheduled_for  timestamptz,
    created_at     timestamptz      NOT NULL DEFAULT now()
);

CREATE TABLE broadcast_recipients (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        bigint      NOT NULL REFERENCES broadcast_jobs (id) ON DELETE CASCADE,
    lead_id       bigint      NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    delivered_at  timestamptz,
    error         text,
    CONSTRAINT broadcast_recipients_job_lead_key UNIQUE (job_id, lead_id)
);
