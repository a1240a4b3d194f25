-- Up Migration
--
-- route_audit.input_features holds each routing decision's inputs and scores (the ROUTE_AUDIT
-- documents, about 1.5 kB of JSON per decision with three venues). Compressed with the default
-- pglz, writing them was the costliest statement of the Postgres sink; with lz4, which compresses
-- faster, its time fell by about a third in alternating drains of bench:persist's journal
-- (bench/results/archive/pg-sink-literals/; a 1.9 kB jsonb value is stored in about 1 kB, inline). Only new rows are affected: no rewrite. A
-- server built without lz4, or older than 14, keeps the default.
-- (SET COMPRESSION exists from Postgres 14: EXECUTE, so that an older server's parser never sees it.)
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE 'ALTER TABLE route_audit ALTER COLUMN input_features SET COMPRESSION lz4';
  END IF;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'route_audit.input_features keeps the default compression: this server has no lz4';
END
$$;
COMMENT ON COLUMN route_audit.input_features IS
  'The SOR''s decisions for this route request (ROUTE_AUDIT records, as GET /v1/orders/{id}/route shows them): a JSON array in decision order; NULL when the sink never saw them';

-- Down Migration
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE 'ALTER TABLE route_audit ALTER COLUMN input_features SET COMPRESSION DEFAULT';
  END IF;
END
$$;
COMMENT ON COLUMN route_audit.input_features IS NULL;
