/**
 * Reading a ROUTE_AUDIT record back: into a RouteFeatures (to decide again and check that the
 * same scores and children come out: the decision is reproducible from its record), and into
 * the JSON document of GET /v1/orders/{id}/route (the seed's route_audit row: input_features,
 * per-venue scores, chosen_routes, weights). Off the hot path; the JSON form allocates.
 */
import { RouteAuditFlyweight, WEIGHT_SCALE } from '../../codecs/records.ts';
import { ticksToDecimalString } from '../../engine/fixed-point.ts';
import { reasonName } from '../../engine/reasons.ts';
import { RouteFeatures, SOR_MODE_NAMES, VENUE_EXCLUSION_NAMES, VenueExclusion, type Weights } from './venue-score.ts';

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

const SIDES = ['', 'BUY', 'SELL'];
const ORD_TYPES = ['', 'MARKET', 'LIMIT'];
const TIFS = ['DAY', 'GTC', '', 'IOC', 'FOK'];

function px(ticks: number): string | null {
  return ticks > 0 ? ticksToDecimalString(ticks) : null;
}

/** The audit record as the API shows it. venueNames[id], symbolNames[id]. Allocates. */
export function auditToJson(a: RouteAuditFlyweight, venueNames: readonly string[], symbolNames: readonly string[], decisionEpochMs: number): Record<string, unknown> {
  const venues: Record<string, unknown>[] = [];
  const routes: Record<string, unknown>[] = [];
  for (let v = 1; v <= a.venueCount(); v++) {
    const name = venueNames[v] ?? String(v);
    const excluded = a.vExcluded(v);
    venues.push({
      venue: name,
      eligible: excluded === VenueExclusion.NONE,
      excluded: excluded === VenueExclusion.NONE ? null : (VENUE_EXCLUSION_NAMES[excluded] ?? String(excluded)),
      features: {
        price: px(a.vPx(v)),
        displayedQty: a.vDispQty(v),
        quoteAgeMs: a.vQuoteAgeNs(v) < 0 ? null : Math.round(a.vQuoteAgeNs(v) / 1e3) / 1e3,
        latencyUs: a.vLatencyUs(v),
        fillProbability: a.vFillProb(v),
        feeBps: a.vFeeCentiBps(v) / 100,
        minQty: a.vMinQty(v),
        lotSize: a.vLotSize(v),
      },
      scores: excluded !== VenueExclusion.NONE && excluded !== VenueExclusion.AWAY_FROM_NBBO
        ? null
        : { price: a.vPriceScore(v), latency: a.vLatencyScore(v), fillprob: a.vFillScore(v), fee: a.vFeeScore(v), total: a.vScore(v) },
    });
    if (a.vChildQty(v) > 0) routes.push({ venue: name, qty: a.vChildQty(v), childId: a.vChildId(v), price: px(a.childPxTicks()), tif: TIFS[a.childTif()] ?? String(a.childTif()) });
  }
  return {
    orderId: String(a.orderId()),
    step: a.step(),
    decidedAt: new Date(decisionEpochMs).toISOString(),
    mode: SOR_MODE_NAMES[a.mode()] ?? String(a.mode()),
    configVersion: a.configVersion(),
    weights: { price: a.priceWeight() / WEIGHT_SCALE, latency: a.latencyWeight() / WEIGHT_SCALE, fillprob: a.fillprobWeight() / WEIGHT_SCALE, fee: a.feeWeight() / WEIGHT_SCALE },
    inputFeatures: {
      symbol: symbolNames[a.symbolId()] ?? String(a.symbolId()),
      side: SIDES[a.side()] ?? String(a.side()),
      ordType: ORD_TYPES[a.ordType()] ?? String(a.ordType()),
      tif: TIFS[a.tif()] ?? String(a.tif()),
      parentQty: a.parentQty(),
      qty: a.qty(),
      limitPrice: px(a.limitTicks()),
      nbbo: { bid: px(a.nbbBidTicks()), bidQty: a.nbbBidQty(), ask: px(a.nbbAskTicks()), askQty: a.nbbAskQty() },
    },
    venues,
    chosenRoutes: routes,
    routedQty: a.routedQty(),
    reason: a.reason() === 0 ? null : reasonName(a.reason()),
  };
}
