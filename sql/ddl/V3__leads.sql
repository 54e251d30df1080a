-- Leads: the hottest table of the product. Columns arrive in later migrations.
CREATE TABLE leads (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL,
    first_name  text,
    last_name   text,
    company     text,
    phone       text,
    email       text,
    status      text        NOT NULL DEFAULT 'new',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fk_leads_business FOREIGN KEY (tenant_id)
        REFERENCES business (id) ON DELETE CASCADE,
    CONSTRAINT leads_status_check
        CHECK (status IN ('new', 'contacted', 'qualified', 'won', 'lost'))
);
