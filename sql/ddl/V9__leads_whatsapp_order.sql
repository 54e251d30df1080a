-- WhatsApp number and manual board position for leads. Both nullable: adding a
-- nullable column without a default is a catalog-only change, even on a big table.
ALTER TABLE leads
    ADD COLUMN phone_whatsapp text,
    ADD COLUMN order_index    bigint;

COMMENT ON COLUMN leads.phone_whatsapp IS
    'WhatsApp number in E.164 form (+4915...); may be NULL.';
COMMENT ON COLUMN leads.order_index IS
    'Manual sort position on the lead board; NULL means ''not placed yet'' and sorts last.';
