-- Messages of a thread in time order; also covers the thread_id foreign key.
CREATE INDEX CONCURRENTLY idx_messages_thread_created ON messages (thread_id, created_at);
