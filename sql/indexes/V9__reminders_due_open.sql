-- Due reminders that are not done yet.
CREATE INDEX CONCURRENTLY idx_reminders_due_open ON reminders (due_at) WHERE done_at IS NULL;
