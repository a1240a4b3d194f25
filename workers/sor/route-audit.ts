/**
 * Reading a ROUTE_AUDIT record back: into a RouteFeatures (to decide again and check that the
 * same scores and children come out: the decision is reproducible from its record), and into
 * the JSON document of GET /v1/orders/{id}/route (the seed's route_audit row: input_features,
 * per-venue scores, chosen_routes, weights). Off the hot path; the JSON form allocates.
 */
import { RouteAuditFlyweight, WEIGHT_SCALE } from '../../codecs/records.ts';
import { RouteFeatures, VenueExclusion, type Weights } from './venue-score.ts';

/** Loads a decision's inputs from its audit record; returns its weights. */
export function auditToFeatures(a: RouteAuditFlyweight, f: RouteFeatures): Weights {
  f.side = a.side();
  f.ordType = a.ordType();
  f.tif = a.tif();
  f.qty = a.qty();
  f.limitTicks = a.limitTicks();
  f.nbbBid = a.nbbBidTicks();
  f.nbbBidQty = a.nbbBidQty();
  f.nbbAsk = a.nbbAskTicks();
  f.nbbAskQty = a.nbbAskQty();
  f.lastStep = (a.flags() & 1) === 1;
  for (let v = 1; v <= a.venueCount(); v++) {
    const ex = a.vExcluded(v);
    f.excluded[v] = ex === VenueExclusion.AWAY_FROM_NBBO ? VenueExclusion.NONE : ex;
    f.px[v] = a.vPx(v);
    f.dispQty[v] = a.vDispQty(v);
    f.quoteAgeNs[v] = a.vQuoteAgeNs(v);
    f.latencyUs[v] = a.vLatencyUs(v);
    f.fillProb[v] = a.vFillProb(v);
    f.feeCentiBps[v] = a.vFeeCentiBps(v);
    f.minQty[v] = a.vMinQty(v);
    f.lotSize[v] = a.vLotSize(v);
  }
  return {
    price: a.priceWeight() / WEIGHT_SCALE,
    latency: a.latencyWeight() / WEIGHT_SCALE,
    fillprob: a.fillprobWeight() / WEIGHT_SCALE,
    fee: a.feeWeight() / WEIGHT_SCALE,
  };
}

/** The JSON form lives with the record format (codecs/route-audit-json.ts), so the Postgres sink
 * can use it too; re-exported here for the SOR's readers. */
export { auditToJson } from '../../codecs/route-audit-json.ts';
