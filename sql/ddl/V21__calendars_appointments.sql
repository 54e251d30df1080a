-- Calendars per business and the appointments in them.
CREATE TABLE business_calendars (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id           bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    name                text        NOT NULL,
    color               text        NOT NULL DEFAULT '#3b82f6'
                                    CHECK (color ~ '^#[0-9a-f]{6}$'),
    is_default          boolean     NOT NULL DEFAULT false,
    google_calendar_id  text,
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- At most one default calendar per business: a partial unique index, built
-- here because the table is created in this file.
CREATE UNIQUE INDEX business_calendars_one_default
    ON business_calendars (tenant_id) WHERE is_default;

CREATE TABLE appointments (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    calendar_id  bigint      NOT NULL REFERENCES business_calendars (id) ON DELETE CASCADE,
    lead_id      bigint      REFERENCES leads (id) ON DELETE SET NULL,
    title        text        NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    CONSTRAINT appointments_ends_after_start CHECK (ends_at > starts_at)
);
