-- Direction of each lead's first call. This migration only adds the column
-- (their original migration 36 also set every row in the same transaction,
-- hit lock_timeout in production and blocked the deploy).
ALTER TABLE leads ADD COLUMN last_call_direction call_direction;

COMMENT ON COLUMN leads.last_call_direction IS
    'Direction of the lead''s first call in call_log; NULL when the lead has no calls.';
