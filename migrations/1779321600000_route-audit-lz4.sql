-- Up Migration
--
-- route_audit.input_features holds each routing decision's inputs and scores (the ROUTE_AUDIT
-- documents, about 1.5 kB of JSON per decision with three venues). Compressed with the default
-- pglz, writing them was the costliest statement of the Postgres sink (bench:persist: about half
-- of route_audit's insert time went to compression); lz4 compresses faster and as well here (a
-- 1.9 kB jsonb value stored in about 1 kB, inline). Only new rows are affected: no rewrite. A
-- server built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE route_audit ALTER COLUMN input_features SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'route_audit.input_features keeps pglz: this server has no lz4';
END
$$;
COMMENT ON COLUMN route_audit.input_features IS
  'The SOR''s decisions for this route request (ROUTE_AUDIT records, as GET /v1/orders/{id}/route shows them): a JSON array in decision order; NULL when the sink never saw them';

-- Down Migration
ALTER TABLE route_audit ALTER COLUMN input_features SET COMPRESSION pglz;
COMMENT ON COLUMN route_audit.input_features IS NULL;
