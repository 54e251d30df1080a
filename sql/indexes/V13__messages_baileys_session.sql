-- Covers fk_messages_baileys_session (ON DELETE SET NULL) for session deletes.
CREATE INDEX CONCURRENTLY idx_messages_baileys_session ON messages (baileys_session_id) WHERE baileys_session_id IS NOT NULL;
