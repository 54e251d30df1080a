-- Follow-up reminders and the lead activity timeline.
CREATE TABLE reminders (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    lead_id     bigint      NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    user_id     bigint      REFERENCES business_users (id) ON DELETE SET NULL,
    due_at      timestamptz NOT NULL,
    note        text        NOT NULL DEFAULT '',
    done_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE activities (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    lead_id     bigint      NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind        text        NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
