-- Keep updated_at current on business and leads.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.updated_at IS NOT NULL THEN
        RETURN NEW;  -- keep an explicit value on insert; imports rely on it
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER trg_business_updated_at
    BEFORE INSERT OR UPDATE ON business
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trg_leads_updated_at
    BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
