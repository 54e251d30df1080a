-- The tenant. Every other table points at business.id through its tenant_id.
CREATE TABLE business (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (length(btrim(name)) > 0),
    slug        text        NOT NULL,
    timezone    text        NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- An index in a ddl file is fine when the table is created in the same file:
-- the table is empty, so the build takes no time and blocks nobody.
CREATE UNIQUE INDEX business_slug_lower_key ON business (lower(slug));
