-- Covers the receipt_id foreign key (ON DELETE CASCADE from receipts).
CREATE INDEX CONCURRENTLY idx_gmail_receipts_receipt ON gmail_receipts (receipt_id);
