-- A calendar's appointments by start time.
CREATE INDEX CONCURRENTLY idx_appointments_calendar_starts ON appointments (calendar_id, starts_at);
