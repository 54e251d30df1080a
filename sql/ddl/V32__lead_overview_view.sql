-- One row per lead for the list screen.
CREATE VIEW lead_overview AS
SELECT l.id,
       l.tenant_id,
       lead_display_name(l.first_name, l.last_name, l.company, l.phone) AS display_name,
       l.status,
       l.phone_whatsapp,
       l.last_call_direction,
       l.order_index,
       l.assigned_user_id,
       l.created_at
  FROM public.leads AS l;

COMMENT ON VIEW lead_overview IS 'Lead list; sorted by order_index, then created_at.';
