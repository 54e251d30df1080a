-- Rewrite leads.phone_whatsapp to E.164 with normalize_phone() (ddl/V10).
-- normalize_phone is idempotent, so a normalised row no longer matches "<>";
-- values without digits (NULL result) are left as they are.
UPDATE leads
   SET phone_whatsapp = normalize_phone(phone_whatsapp)
 WHERE id BETWEEN :lo AND :hi
   AND phone_whatsapp IS NOT NULL
   AND phone_whatsapp <> normalize_phone(phone_whatsapp);
