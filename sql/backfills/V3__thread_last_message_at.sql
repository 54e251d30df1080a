-- threads.last_message_at := time of the thread's newest message, for threads
-- older than the trigger of ddl/V8. Threads without messages stay NULL.
UPDATE threads AS t
   SET last_message_at = m.last_at
  FROM (
        SELECT thread_id, max(created_at) AS last_at
          FROM messages
         WHERE thread_id BETWEEN :lo AND :hi
         GROUP BY thread_id
       ) AS m
 WHERE t.id = m.thread_id
   AND t.id BETWEEN :lo AND :hi
   AND t.last_message_at IS NULL;
