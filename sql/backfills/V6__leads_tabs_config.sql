-- leads.tabs_config := the tenant's business.default_tabs_config, one tenant
-- at a time (:tenant_id), walking that tenant's leads by id.
UPDATE leads AS l
   SET tabs_config = b.default_tabs_config
  FROM business AS b
 WHERE b.id = :tenant_id
   AND l.tenant_id = :tenant_id
   AND l.id BETWEEN :lo AND :hi
   AND l.tabs_config IS NULL;
