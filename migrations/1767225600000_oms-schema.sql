-- Up Migration
--
-- The OMS tables, fed from the journal by the Postgres sink (persistence/pg-sink.ts). The seed's
-- tables (orders, order_events, fills, route_audit) keep their names and meaning; ids are the
-- engine's numeric ids (BIGINT) rather than the seed's UUIDs: an order id is the engine's order
-- id, and every event id is the event's journal sequence number, unique and in journal order.
-- Prices are NUMERIC(18,6) (the engine's 1e-6 ticks, exact); quantities are BIGINT shares.
-- No foreign keys: a report may name no order (a refused command) and rows arrive in journal
-- order in batches; the sink's idempotence rests on the primary keys below.

-- Reference data from the engine's configuration (upserted when the sink starts).
CREATE TABLE accounts (
  account_id          INTEGER PRIMARY KEY,
  name                TEXT NOT NULL,
  role                VARCHAR(16) NOT NULL,
  enabled             BOOLEAN NOT NULL,
  max_order_qty       BIGINT NOT NULL,
  max_order_notional  NUMERIC(24,6) NOT NULL,
  -- Kill switch state from ACCOUNT_CONTROL events (NORMAL, HALTED, REDUCE_ONLY).
  trading_mode        VARCHAR(16) NOT NULL DEFAULT 'NORMAL',
  mode_event_id       BIGINT NOT NULL DEFAULT 0,
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE symbols (
  symbol_id        INTEGER PRIMARY KEY,
  symbol           TEXT NOT NULL,
  reference_price  NUMERIC(18,6) NOT NULL
);

CREATE TABLE venues (
  venue_id          INTEGER PRIMARY KEY,
  name              TEXT NOT NULL,
  fee_bps           NUMERIC(12,6) NOT NULL,
  latency_us        DOUBLE PRECISION NOT NULL,
  fill_probability  DOUBLE PRECISION NOT NULL
);

-- Canonical order state: one row per order, the latest report wins (last_event_id guards order).
CREATE TABLE orders (
  order_id       BIGINT PRIMARY KEY,
  account_id     INTEGER NOT NULL,
  cl_ord_id      TEXT NOT NULL,
  symbol_id      INTEGER NOT NULL,
  symbol         TEXT NOT NULL,
  side           VARCHAR(4) NOT NULL,
  qty            BIGINT NOT NULL,
  price          NUMERIC(18,6),
  type           VARCHAR(16) NOT NULL,
  tif            VARCHAR(8) NOT NULL,
  status         VARCHAR(32) NOT NULL,
  cum_qty        BIGINT NOT NULL,
  leaves_qty     BIGINT NOT NULL,
  avg_px         NUMERIC(18,6),
  last_event_id  BIGINT NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_updated   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX orders_account_idx ON orders (account_id, cl_ord_id);

-- Every execution report (client-facing order event), refused commands included (order_id 0).
CREATE TABLE order_events (
  event_id      BIGINT PRIMARY KEY,
  order_id      BIGINT NOT NULL,
  event_type    VARCHAR(64) NOT NULL,
  status        VARCHAR(32) NOT NULL,
  account_id    INTEGER NOT NULL,
  cl_ord_id     TEXT NOT NULL,
  orig_cl_ord_id TEXT,
  qty           BIGINT NOT NULL,
  price         NUMERIC(18,6),
  last_qty      BIGINT NOT NULL,
  last_px       NUMERIC(18,6),
  cum_qty       BIGINT NOT NULL,
  leaves_qty    BIGINT NOT NULL,
  reason        VARCHAR(48) NOT NULL,
  venue         TEXT,
  report_seq    BIGINT NOT NULL,
  payload       JSONB,
  occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, event_id);

-- One row per fill of a client order (from the fill's execution report).
CREATE TABLE fills (
  fill_id       BIGINT PRIMARY KEY,
  order_id      BIGINT NOT NULL,
  account_id    INTEGER NOT NULL,
  symbol        TEXT NOT NULL,
  side          VARCHAR(4) NOT NULL,
  venue         TEXT,
  executed_qty  BIGINT NOT NULL,
  price         NUMERIC(18,6) NOT NULL,
  timestamp     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX fills_order_idx ON fills (order_id);

-- What happened to each child order at its venue (sent, acked, fill, canceled, rejected, ...).
CREATE TABLE child_events (
  event_id     BIGINT PRIMARY KEY,
  child_id     BIGINT NOT NULL,
  order_id     BIGINT NOT NULL,
  kind         VARCHAR(16) NOT NULL,
  venue_id     INTEGER NOT NULL,
  venue        TEXT,
  qty          BIGINT NOT NULL,
  price        NUMERIC(18,6),
  last_qty     BIGINT NOT NULL,
  last_px      NUMERIC(18,6),
  reason       VARCHAR(48) NOT NULL,
  occurred_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX child_events_order_idx ON child_events (order_id, event_id);

-- One row per routing decision (ROUTE_DONE). chosen_routes: the children sent for it;
-- reason_weights: the SOR weights in force. input_features: the SOR's decisions for the route
-- request, from the journaled ROUTE_AUDIT records (when this table was first written they were not
-- journaled and it stayed NULL; the column's comment, set by 1779321600000_route-audit-lz4, says
-- what it holds).
CREATE TABLE route_audit (
  route_id        BIGINT PRIMARY KEY,
  order_id        BIGINT NOT NULL,
  routed_qty      BIGINT NOT NULL,
  child_count     INTEGER NOT NULL,
  reason          VARCHAR(48) NOT NULL,
  decision_us     BIGINT NOT NULL,
  input_features  JSONB,
  chosen_routes   JSONB,
  reason_weights  JSONB,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX route_audit_order_idx ON route_audit (order_id, route_id);

-- Commands as accepted into the journal (new, cancel, replace, mass cancel).
CREATE TABLE order_commands (
  event_id        BIGINT PRIMARY KEY,
  command         VARCHAR(16) NOT NULL,
  account_id      INTEGER NOT NULL,
  order_id        BIGINT,
  cl_ord_id       TEXT,
  orig_cl_ord_id  TEXT,
  symbol          TEXT,
  side            VARCHAR(4),
  qty             BIGINT,
  price           NUMERIC(18,6),
  type            VARCHAR(16),
  tif             VARCHAR(8),
  source          VARCHAR(8),
  reason          VARCHAR(48),
  received_at     TIMESTAMPTZ NOT NULL
);

-- Kill switch changes (account_id 0: every account), with the admin who made them.
CREATE TABLE account_controls (
  event_id          BIGINT PRIMARY KEY,
  account_id        INTEGER NOT NULL,
  admin_account_id  INTEGER NOT NULL,
  mode              VARCHAR(16) NOT NULL,
  occurred_at       TIMESTAMPTZ NOT NULL
);

-- Positions (average cost) per account and symbol, latest POSITION event wins.
CREATE TABLE positions (
  account_id     INTEGER NOT NULL,
  symbol_id      INTEGER NOT NULL,
  symbol         TEXT NOT NULL,
  qty            BIGINT NOT NULL,
  cost           NUMERIC(24,6) NOT NULL,
  realized_pnl   NUMERIC(24,6) NOT NULL,
  last_event_id  BIGINT NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (account_id, symbol_id)
);

-- SOR configuration changes (admin API), weights as exact decimals.
CREATE TABLE sor_config (
  event_id          BIGINT PRIMARY KEY,
  version           INTEGER NOT NULL,
  admin_account_id  INTEGER NOT NULL,
  w_price           NUMERIC(8,6) NOT NULL,
  w_latency         NUMERIC(8,6) NOT NULL,
  w_fillprob        NUMERIC(8,6) NOT NULL,
  w_fee             NUMERIC(8,6) NOT NULL,
  quote_stale_ms    INTEGER NOT NULL,
  mode              SMALLINT NOT NULL,
  occurred_at       TIMESTAMPTZ NOT NULL
);

-- Where each sink stands in the journal: updated in the same transaction as each batch.
CREATE TABLE sink_cursor (
  sink           TEXT PRIMARY KEY,
  segment        INTEGER NOT NULL,
  byte_offset    BIGINT NOT NULL,
  next_sequence  BIGINT NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE sink_cursor;
DROP TABLE sor_config;
DROP TABLE positions;
DROP TABLE account_controls;
DROP TABLE order_commands;
DROP TABLE route_audit;
DROP TABLE child_events;
DROP TABLE fills;
DROP TABLE order_events;
DROP TABLE orders;
DROP TABLE venues;
DROP TABLE symbols;
DROP TABLE accounts;
