-- Payment receipts. A receipt outlives its lead (ON DELETE SET NULL).
CREATE TABLE receipts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint      NOT NULL REFERENCES business (id) ON DELETE CASCADE,
    lead_id       bigint      REFERENCES leads (id) ON DELETE SET NULL,
    amount_cents  bigint      NOT NULL CONSTRAINT receipts_amount_nonnegative CHECK (amount_cents >= 0),
    currency      char(3)     NOT NULL DEFAULT 'EUR'
                              CONSTRAINT receipts_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    issued_at     timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now()
);
