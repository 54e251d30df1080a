-- Conversations (WhatsApp, e-mail, SMS) and their messages. Several statements in one file.
CREATE TABLE threads (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    lead_id     bigint      NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    channel     text        NOT NULL CHECK (channel IN ('whatsapp', 'email', 'sms')),
    subject     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    thread_id   bigint      NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    direction   text        NOT NULL CHECK (direction IN ('in', 'out')),
    body        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE threads IS 'One conversation with a lead on one channel.';
COMMENT ON TABLE messages IS 'Messages of a thread, oldest first by created_at.';
