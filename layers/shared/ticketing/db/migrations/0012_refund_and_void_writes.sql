-- Cancelling a sold-out event queues a refund per payment and voids every ticket in one transaction
-- (docs/refunds.md): 50,000 rows of each, and a non-HOT update writes an entry into every index whose
-- predicate the new row meets. Two indexes only ever needed a subset of their rows.

-- A booking's payments: the one that went through is found through payments_one_success_key (it covers every
-- state a successful charge moves to), so the plain (booking_id) index only has to cover failed attempts.
-- Queuing, sending and giving up on a refund now writes three index entries instead of four.
CREATE INDEX payments_failed_booking_idx ON payments (booking_id) WHERE status = 'FAILED';
DROP INDEX payments_booking_idx;

-- An event's ticket counts: live tickets by status here, void ones through tickets_revoked_idx
-- (event_id, voided_at WHERE status = 'VOID'). Voiding a ticket no longer writes this index.
CREATE INDEX tickets_event_live_idx ON tickets (event_id, status) WHERE status <> 'VOID';
DROP INDEX tickets_event_status_idx;
