-- Per-lead board tabs, with a per-tenant default to copy from.
ALTER TABLE business
    ADD COLUMN default_tabs_config jsonb NOT NULL
        DEFAULT '{"tabs": ["overview", "calls", "messages", "contracts"]}'::jsonb;

ALTER TABLE leads ADD COLUMN tabs_config jsonb;

-- NOT VALID: checked for new and changed rows from now on; existing rows are
-- checked later by VALIDATE CONSTRAINT (V29), which does not block writes.
ALTER TABLE leads
    ADD CONSTRAINT leads_tabs_config_is_object
    CHECK (tabs_config IS NULL OR jsonb_typeof(tabs_config) = 'object') NOT VALID;
