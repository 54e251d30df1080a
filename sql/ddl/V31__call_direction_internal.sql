-- Calls between two agents. Alone in its file: a value added by ADD VALUE
-- cannot be used in the transaction that added it.
ALTER TYPE call_direction ADD VALUE 'internal' AFTER 'outbound';
