-- People who log in; one row per (tenant, e-mail address).
CREATE TABLE business_users (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    email       text        NOT NULL,
    full_name   text,
    role        text        NOT NULL DEFAULT 'agent'
                            CONSTRAINT business_users_role_check
                            CHECK (role IN ('owner', 'admin', 'agent')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT business_users_tenant_email_key UNIQUE (tenant_id, email)
);
