-- leads.order_index := id where unset, so the board order is stable.
-- Rows are locked FOR NO KEY UPDATE (not FOR UPDATE): that lock does not
-- conflict with the KEY SHARE lock a foreign-key check on a child insert takes
-- (a new call_log row for this lead), and SKIP LOCKED steps over rows other
-- sessions hold; those stay NULL until the range is run again.
UPDATE leads
   SET order_index = id
 WHERE id IN (
        SELECT id
          FROM leads
         WHERE id BETWEEN :lo AND :hi
           AND order_index IS NULL
           FOR NO KEY UPDATE SKIP LOCKED
       );
