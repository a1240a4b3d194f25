/**
 * A ROUTE_AUDIT record (codecs/records.ts) as a JSON document: the seed's route_audit row (input
 * features, every venue's features and scores, the chosen routes, the weights). One decoder for
 * every reader: the API's GET /v1/orders/{id}/route (workers/ingest/route-audit-view.ts) and the
 * Postgres sink's route_audit.input_features
 * (persistence/pg-sink.ts), which may not import the SOR (layering: persistence/ and workers/
 * both import codecs/). Off the hot path: allocates the document.
 *
 * The names of the record's small integers live here, with the record format: the SOR's modes
 * (byte 121) and why a venue took no part (venue entry byte 116). workers/sor/venue-score.ts
 * takes its names from these tables and checks its constants against them at load.
 */
import { RouteAuditFlyweight, WEIGHT_SCALE } from './records.ts';
import { isoMillis } from './iso-time.ts';
import { ticksToDecimalString } from '../engine/fixed-point.ts';
import { reasonName } from '../engine/reasons.ts';
import { ordTypeName, sideName, tifName } from '../engine/domain.ts';

/** SOR mode by its number (ROUTE_AUDIT mode, SOR_CONFIG mode). */
export const ROUTE_AUDIT_MODE_NAMES = ['SINGLE_BEST', 'SPLIT', 'STAGED'] as const;
/** Why a venue took no part in a decision, by its number (0: it did). */
export const ROUTE_AUDIT_EXCLUSION_NAMES = ['NONE', 'NO_PROFILE', 'DOWN', 'DISALLOWED', 'STALE', 'CROSSED', 'TRIED', 'AWAY_FROM_NBBO'] as const;
const EXCLUDED_NONE = 0;
/** Decided, not an input: the venue did not quote the best reachable price (it was scored). */
const EXCLUDED_AWAY_FROM_NBBO = 7;
if (ROUTE_AUDIT_EXCLUSION_NAMES[EXCLUDED_AWAY_FROM_NBBO] !== 'AWAY_FROM_NBBO') throw new Error('Invariant: exclusion numbering');

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
      eligible: excluded === EXCLUDED_NONE,
      excluded: excluded === EXCLUDED_NONE ? null : (ROUTE_AUDIT_EXCLUSION_NAMES[excluded] ?? String(excluded)),
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
      scores: excluded !== EXCLUDED_NONE && excluded !== EXCLUDED_AWAY_FROM_NBBO
        ? null
        : { price: a.vPriceScore(v), latency: a.vLatencyScore(v), fillprob: a.vFillScore(v), fee: a.vFeeScore(v), total: a.vScore(v) },
    });
    if (a.vChildQty(v) > 0) routes.push({ venue: name, qty: a.vChildQty(v), childId: a.vChildId(v), price: px(a.childPxTicks()), tif: tifName(a.childTif()) ?? String(a.childTif()) });
  }
  return {
    orderId: String(a.orderId()),
    step: a.step(),
    decidedAt: isoMillis(decisionEpochMs),
    mode: ROUTE_AUDIT_MODE_NAMES[a.mode()] ?? String(a.mode()),
    configVersion: a.configVersion(),
    weights: { price: a.priceWeight() / WEIGHT_SCALE, latency: a.latencyWeight() / WEIGHT_SCALE, fillprob: a.fillprobWeight() / WEIGHT_SCALE, fee: a.feeWeight() / WEIGHT_SCALE },
    inputFeatures: {
      symbol: symbolNames[a.symbolId()] ?? String(a.symbolId()),
      side: sideName(a.side()) ?? String(a.side()),
      ordType: ordTypeName(a.ordType()) ?? String(a.ordType()),
      tif: tifName(a.tif()) ?? String(a.tif()),
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
