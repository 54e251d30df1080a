-- E-mail templates. The signature default is an E'' string: \n is a newline
-- and \' an escaped quote; the semicolon inside it does not end the statement.
CREATE TABLE email_templates (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    subject     text        NOT NULL,
    body_html   text        NOT NULL,
    signature   text        NOT NULL DEFAULT E'--\nSent from our CRM; please don\'t reply to this address.',
    is_default  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT email_templates_tenant_name_key UNIQUE (tenant_id, name)
);

COMMENT ON COLUMN email_templates.signature IS
    E'Appended to every e-mail.\nPlain text; the first line is usually "--".';
