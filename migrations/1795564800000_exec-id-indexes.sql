-- Up Migration
--
-- Lookups by the venue's execution identifiers, for reconciliation with the venue: a drop copy's
-- or a trade break's ExecID finds the fill it books (fills.venue_exec_id) and the venue event
-- (child_events.exec_id); a fill's ExecID finds the busts and corrections naming it
-- (child_events.exec_ref_id). Without them each lookup scans the table. Partial (rows with an
-- identifier only): child events other than fills, busts and corrections add no index entry, and
-- exec_ref_id's index holds busts and corrections alone. Built by the sink's migration run at
-- connect (it is the tables' only writer), over the rows already there: on a large existing
-- table that takes longer than the sink's statement timeout (30 s), which a build cut short would
-- hit again at every reconnect, so the timeout is lifted for the rest of this transaction
-- (SET LOCAL: the sink's own statements keep theirs).
SET LOCAL statement_timeout = 0;
CREATE INDEX IF NOT EXISTS fills_venue_exec_id_idx ON fills (venue_exec_id) WHERE venue_exec_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS child_events_exec_id_idx ON child_events (exec_id) WHERE exec_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS child_events_exec_ref_id_idx ON child_events (exec_ref_id) WHERE exec_ref_id IS NOT NULL;

-- Down Migration
DROP INDEX IF EXISTS child_events_exec_ref_id_idx;
DROP INDEX IF EXISTS child_events_exec_id_idx;
DROP INDEX IF EXISTS fills_venue_exec_id_idx;
