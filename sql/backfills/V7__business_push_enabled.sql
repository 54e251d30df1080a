-- business.push_enabled := true for tenants created before the column (NULL).
UPDATE business
   SET push_enabled = true
 WHERE id BETWEEN :lo AND :hi
   AND push_enabled IS NULL;
