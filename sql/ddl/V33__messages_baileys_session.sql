-- Which WhatsApp session carried a message. Foreign key NOT VALID now,
-- validated in V35.
ALTER TABLE messages ADD COLUMN baileys_session_id bigint;

ALTER TABLE messages
    ADD CONSTRAINT fk_messages_baileys_session
    FOREIGN KEY (baileys_session_id) REFERENCES baileys_sessions (id)
    ON DELETE SET NULL
    NOT VALID;
