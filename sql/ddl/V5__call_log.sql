-- One row per phone call. Deleting a lead deletes its calls.
CREATE TABLE call_log (
    id                bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         bigint         NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    lead_id           bigint         NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    user_id           bigint         REFERENCES business_users (id) ON DELETE SET NULL,
    direction         call_direction NOT NULL,
    duration_seconds  integer        NOT NULL DEFAULT 0
                                     CONSTRAINT call_log_duration_nonnegative
                                     CHECK (duration_seconds >= 0),
    created_at        timestamptz    NOT NULL DEFAULT now()
);
