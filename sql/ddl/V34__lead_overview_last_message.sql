-- Add the time of the lead's latest message to the list view. CREATE OR
-- REPLACE VIEW may only append columns, so the new one goes last.
CREATE OR REPLACE VIEW lead_overview AS
SELECT l.id,
       l.tenant_id,
       lead_display_name(l.first_name, l.last_name, l.company, l.phone) AS display_name,
       l.status,
       l.phone_whatsapp,
       l.last_call_direction,
       l.order_index,
       l.assigned_user_id,
       l.created_at,
       (SELECT max(t.last_message_at)
          FROM threads AS t
         WHERE t.lead_id = l.id) AS last_message_at
  FROM public.leads AS l;
