-- Lead owner. The foreign key is added NOT VALID (a short lock, no scan of
-- leads) and validated in V29 under a weaker lock.
ALTER TABLE leads ADD COLUMN assigned_user_id bigint;

ALTER TABLE leads
    ADD CONSTRAINT fk_leads_assigned_user
    FOREIGN KEY (assigned_user_id) REFERENCES business_users (id)
    ON DELETE SET NULL
    NOT VALID;
