-- WhatsApp Web sessions (Baileys library): one per connected phone number.
CREATE TABLE baileys_sessions (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    phone_number  text        NOT NULL,
    status        text        NOT NULL DEFAULT 'connecting'
                              CHECK (status IN ('connecting', 'open', 'closed', 'logged_out')),
    auth_state    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    last_seen_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT baileys_sessions_tenant_phone_key UNIQUE (tenant_id, phone_number)
);
