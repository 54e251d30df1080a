-- At most one open (draft or sent) contract per lead: a partial UNIQUE index.
CREATE UNIQUE INDEX CONCURRENTLY idx_contracts_one_open_per_lead ON contracts (lead_id) WHERE status IN ('draft', 'sent');
