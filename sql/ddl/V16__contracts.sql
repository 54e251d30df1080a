-- Contract templates and the contracts made from them.
CREATE TYPE contract_status AS ENUM ('draft', 'sent', 'signed', 'void');

CREATE TABLE contract_templates (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contract_templates_tenant_name_key UNIQUE (tenant_id, name)
);

CREATE TABLE contracts (
    id           bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint          NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    lead_id      bigint          NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    template_id  bigint          REFERENCES contract_templates (id) ON DELETE SET NULL,
    status       contract_status NOT NULL DEFAULT 'draft',
    signed_at    timestamptz,
    created_at   timestamptz     NOT NULL DEFAULT now(),
    CONSTRAINT contracts_signed_has_date
        CHECK (status <> 'signed' OR signed_at IS NOT NULL)
);
