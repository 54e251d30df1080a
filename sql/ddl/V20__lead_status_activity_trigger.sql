-- Write a timeline entry whenever a lead changes status. The INSERT is inside
-- the function body: it runs per row at trigger time, it is not a data change
-- made by this migration.
CREATE FUNCTION log_lead_status_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO activities (tenant_id, lead_id, kind, payload)
    VALUES (NEW.tenant_id, NEW.id, 'status_changed',
            jsonb_build_object('from', OLD.status, 'to', NEW.status));
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_leads_status_activity
    AFTER UPDATE OF status ON leads
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION log_lead_status_change();
