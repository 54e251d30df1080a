-- broadcast_jobs.delivered_at := when the last recipient got the message, for
-- jobs already sent before the column existed.
UPDATE broadcast_jobs AS j
   SET delivered_at = r.last_delivered_at
  FROM (
        SELECT job_id, max(delivered_at) AS last_delivered_at
          FROM broadcast_recipients
         WHERE job_id BETWEEN :lo AND :hi
           AND delivered_at IS NOT NULL
         GROUP BY job_id
       ) AS r
 WHERE j.id = r.job_id
   AND j.id BETWEEN :lo AND :hi
   AND j.status = 'sent'
   AND j.delivered_at IS NULL;
