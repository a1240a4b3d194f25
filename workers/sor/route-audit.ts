/**
 * Reading a ROUTE_AUDIT record back into a RouteFeatures (to decide again and check that the
 * same scores and children come out: the decision is reproducible from its record). The JSON
 * document of GET /v1/orders/{id}/route is codecs/route-audit-json.ts (auditToJson).
 * Off the hot path.
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
