-- threads.last_message_at, kept current by a trigger on messages from now on.
-- Threads older than this migration keep NULL until a batched data job sets them.
ALTER TABLE threads ADD COLUMN last_message_at timestamptz;

CREATE FUNCTION touch_thread_last_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Only ever move forward; two inserts into one thread serialise on its row.
    UPDATE threads
       SET last_message_at = NEW.created_at
     WHERE id = NEW.thread_id
       AND (last_message_at IS NULL OR last_message_at < NEW.created_at);
    RETURN NULL;  -- AFTER trigger: the return value is ignored
END;
$$;

CREATE TRIGGER trg_messages_touch_thread
    AFTER INSERT OR UPDATE OF created_at, thread_id ON messages
    FOR EACH ROW EXECUTE FUNCTION touch_thread_last_message();
