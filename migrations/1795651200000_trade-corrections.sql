-- Up Migration
--
-- Venue busts and corrections applied by the engine (ExecType H, G): order_events.exec_ref_seq is,
-- on a TRADE_CANCEL or TRADE_CORRECT row, the report_seq of the fill it takes back (the ExecID its
-- client saw; that fill's row has the same order_id); fills.corrected_by is the event_id of the
-- latest bust or correction of the fill (its order_events row: last_qty and last_px are the trade
-- taken back for a bust, the trade as corrected for a correction); NULL while the fill stands.
-- Adding NULL columns rewrites no table, so no statement timeout is lifted here.
ALTER TABLE order_events ADD COLUMN exec_ref_seq BIGINT;
ALTER TABLE fills ADD COLUMN corrected_by BIGINT;
COMMENT ON COLUMN order_events.exec_ref_seq IS
  'TRADE_CANCEL / TRADE_CORRECT: report_seq of the order''s fill report it busts or corrects; NULL otherwise';
COMMENT ON COLUMN fills.corrected_by IS
  'event_id (order_events) of the latest TRADE_CANCEL or TRADE_CORRECT of this fill; NULL while the fill stands';

-- Down Migration
ALTER TABLE fills DROP COLUMN corrected_by;
ALTER TABLE order_events DROP COLUMN exec_ref_seq;
