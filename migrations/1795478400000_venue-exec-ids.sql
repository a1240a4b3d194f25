-- Up Migration
--
-- The venue's identifiers of its executions, for reconciliation with the venue (drop copies,
-- trade breaks): child_events.exec_id is the ExecID (17) of a venue's fill, bust (Trade Cancel)
-- or correction (Trade Correct); child_events.exec_ref_id is the ExecID of the fill a bust or a
-- correction names (ExecRefID, 19); fills.venue_exec_id is the ExecID of the venue fill an order's
-- fill books. NULL for rows journaled before the engine kept them, and for a fill made up by
-- reconciliation from a status answer (it has no ExecID of its own). Adding a NULL column
-- rewrites no table.
ALTER TABLE child_events ADD COLUMN exec_id TEXT, ADD COLUMN exec_ref_id TEXT;
ALTER TABLE fills ADD COLUMN venue_exec_id TEXT;
COMMENT ON COLUMN child_events.exec_id IS
  'The venue''s ExecID (17) of a FILL, TRADE_CANCEL or TRADE_CORRECT (at most 64 characters, non-printable bytes as ?); NULL otherwise';
COMMENT ON COLUMN child_events.exec_ref_id IS
  'ExecRefID (19) of a TRADE_CANCEL or TRADE_CORRECT: the exec_id of the fill busted or corrected (fills.venue_exec_id); NULL otherwise';
COMMENT ON COLUMN fills.venue_exec_id IS
  'The venue''s ExecID of the fill booked (child_events.exec_id of its FILL); NULL for a fill made up by reconciliation';

-- Down Migration
ALTER TABLE fills DROP COLUMN venue_exec_id;
ALTER TABLE child_events DROP COLUMN exec_ref_id, DROP COLUMN exec_id;
