-- VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE on leads: reads and writes go on.
ALTER TABLE leads VALIDATE CONSTRAINT fk_leads_assigned_user;
ALTER TABLE leads VALIDATE CONSTRAINT leads_tabs_config_is_object;
