/**
 * The routing decision as a pure function of its features: every venue's scores (seed 000,
 * section 5.3) and the child quantities of the chosen mode (section 5.4). It reads and writes
 * only the typed arrays of a RouteFeatures, allocated once, so the SOR runs it per order without
 * allocating, and a route audit record (which stores the same features) can be decoded into a
 * fresh RouteFeatures and decided again to reproduce the decision exactly.
 *
 * Scores, each in [0, 1], for every venue that is not excluded:
 *   price    = best price among them / this venue's (buy: best ask / ask; sell: bid / best bid);
 *              1 for all when none has a quote, 0 for a venue without one when others have.
 *   latency  = lowest learned latency / this venue's.
 *   fillprob = the venue's learned fill probability.
 *   fee      = (lowest fee + 1) / (this venue's fee + 1), fees in hundredths of a basis point.
 *   score    = w_price * price + w_latency * latency + w_fillprob * fillprob + w_fee * fee.
 * Ranking: higher score first, ties to the lower venue id (reproducible).
 *
 * Trade-through protection and the collar (prices in integer ticks):
 *   - A limit order is marketable when it crosses the NBBO (buy: limit >= NBB ask). Its children
 *     are then priced AT the NBBO (buy: NBB ask), never at the client's worse limit, so no child
 *     can execute at a price worse than the best displayed one. Only venues quoting the best
 *     reachable price take part (the others are AWAY_FROM_NBBO). A DAY/GTC order's marketable
 *     children go IOC (a sweep): when they end, the SOR decides again for the rest on the fresh
 *     book: the next price level if still marketable, else a DAY child at the client's own limit
 *     (the order rests as instructed). Only at the last step allowed (maxSteps) does a marketable
 *     rest stay at the NBBO price as DAY. An IOC limit and a market order sweep the same way: a
 *     child that missed because the quote moved is followed by one at the new NBBO while the
 *     order is still marketable (market: the new collar), up to maxSteps decisions; a rest that is
 *     no longer marketable gets one IOC at the client's limit, then the order is done. A FOK is
 *     one all-or-none attempt. A passive limit keeps its price, all venues compete.
 *   - A market order becomes a limit IOC at the collar: NBB ask + collarBps of it, rounded down
 *     to the tick (sell: NBB bid - collarBps, rounded up). Without an NBBO it is not routed. Its
 *     later sweep steps never go beyond the first decision's collar price (f.limitTicks, set by
 *     the SOR after that decision): a limit at that price from then on.
 * Quantities are integers: a venue gets a multiple of its lot size, and nothing below its
 * minimum quantity.
 *
 * Modes:
 *   SINGLE_BEST  the whole quantity to the top-ranked venue (the next ones take what lot/min
 *                constraints leave).
 *   SPLIT        shares proportional to score x displayed quantity (score alone when nothing is
 *                displayed), capped at the displayed quantity for marketable orders; the rest to
 *                the ranking, top first.
 *   STAGED       the whole quantity to the top-ranked venue not yet tried (the caller marks tried
 *                venues TRIED); the SOR falls back to the next after a delay (route-plan.ts).
 * A FOK order always goes whole to one venue (a split could not be all-or-none).
 */
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { ROUTE_AUDIT_EXCLUSION_NAMES, ROUTE_AUDIT_MODE_NAMES } from '../../codecs/route-audit-json.ts';

export const SorMode = { SINGLE_BEST: 0, SPLIT: 1, STAGED: 2 } as const;
export type SorMode = (typeof SorMode)[keyof typeof SorMode];
/** Names by mode number: the record format's table (codecs/route-audit-json.ts). */
export const SOR_MODE_NAMES = ROUTE_AUDIT_MODE_NAMES;

/** Why a venue took no part in a decision (0 = it did). Inputs, except AWAY_FROM_NBBO. */
export const VenueExclusion = {
  NONE: 0,
  /** No venue configured under this id. */
  NO_PROFILE: 1,
  /** Its FIX session is not logged on. */
  DOWN: 2,
  /** The account may not trade there (sor.disallowedVenues). */
  DISALLOWED: 3,
  /** Its quote is older than quoteStaleMs (or it never quoted): not routable for a marketable or market order. */
  STALE: 4,
  /** Its own quote is crossed or locked (bid >= ask): bad data, excluded. */
  CROSSED: 5,
  /** A staged route already tried it. */
  TRIED: 6,
  /** A marketable order's venue that does not quote the best reachable price (decided). */
  AWAY_FROM_NBBO: 7,
} as const;
/** Names by exclusion number: the record format's table (codecs/route-audit-json.ts). */
export const VENUE_EXCLUSION_NAMES = ROUTE_AUDIT_EXCLUSION_NAMES;
for (const [name, value] of Object.entries(VenueExclusion)) {
  if (VENUE_EXCLUSION_NAMES[value] !== name) throw new Error(`Invariant: VenueExclusion.${name} is named ${VENUE_EXCLUSION_NAMES[value]} in the audit format`);
}
for (const [name, value] of Object.entries(SorMode)) {
  if (SOR_MODE_NAMES[value] !== name) throw new Error(`Invariant: SorMode.${name} is named ${SOR_MODE_NAMES[value]} in the audit format`);
}

export interface Weights {
  price: number;
  latency: number;
  fillprob: number;
  fee: number;
}

/** One decision's inputs and outputs, by venue id (index 0 unused). Allocated once per stage. */
export class RouteFeatures {
  readonly venues: number;
  // Order.
  side: number;
  ordType: number;
  tif: number;
  qty: number;
  limitTicks: number;
  // Market.
  nbbBid: number;
  nbbBidQty: number;
  nbbAsk: number;
  nbbAskQty: number;
  // Per venue inputs.
  readonly excluded: Uint8Array;
  /** Price on the side the order takes (ask for a buy), 0 when none or stale. */
  readonly px: Float64Array;
  readonly dispQty: Float64Array;
  readonly quoteAgeNs: Float64Array;
  readonly latencyUs: Float64Array;
  readonly fillProb: Float64Array;
  readonly feeCentiBps: Float64Array;
  readonly minQty: Float64Array;
  readonly lotSize: Float64Array;
  // Outputs.
  readonly away: Uint8Array;
  readonly priceScore: Float64Array;
  readonly latencyScore: Float64Array;
  readonly fillScore: Float64Array;
  readonly feeScore: Float64Array;
  readonly score: Float64Array;
  readonly childQty: Float64Array;
  /** Venue ids of the candidates, best first; rankCount of them. */
  readonly rank: Int32Array;
  rankCount: number;
  childPx: number;
  childTif: number;
  /** The children take displayed liquidity IOC and the rest is decided again when they end. */
  sweep: boolean;
  /** No decision after this one (the rest of a marketable order then rests at the NBBO). */
  lastStep: boolean;
  routedQty: number;

  constructor(venues: number) {
    if (!(Number.isInteger(venues) && venues >= 2 && venues <= 256)) throw new Error('Condition failed: 2..256 venue slots');
    this.venues = venues;
    this.side = Side.BUY;
    this.ordType = OrdType.LIMIT;
    this.tif = Tif.DAY;
    this.qty = 0;
    this.limitTicks = 0;
    this.nbbBid = 0;
    this.nbbBidQty = 0;
    this.nbbAsk = 0;
    this.nbbAskQty = 0;
    this.excluded = new Uint8Array(venues);
    this.px = new Float64Array(venues);
    this.dispQty = new Float64Array(venues);
    this.quoteAgeNs = new Float64Array(venues);
    this.latencyUs = new Float64Array(venues);
    this.fillProb = new Float64Array(venues);
    this.feeCentiBps = new Float64Array(venues);
    this.minQty = new Float64Array(venues);
    this.lotSize = new Float64Array(venues);
    this.away = new Uint8Array(venues);
    this.priceScore = new Float64Array(venues);
    this.latencyScore = new Float64Array(venues);
    this.fillScore = new Float64Array(venues);
    this.feeScore = new Float64Array(venues);
    this.score = new Float64Array(venues);
    this.childQty = new Float64Array(venues);
    this.rank = new Int32Array(venues);
    this.rankCount = 0;
    this.childPx = 0;
    this.childTif = Tif.DAY;
    this.sweep = false;
    this.lastStep = true;
    this.routedQty = 0;
  }
}

/** Fills every score of venues not excluded (-1 for the excluded); allocates nothing. */
export function scoreVenues(f: RouteFeatures, w: Weights): void {
  const buy = f.side === Side.BUY;
  let bestPrice = buy ? Infinity : 0;
  let minLatency = Infinity;
  let minFee = Infinity;
  for (let v = 1; v < f.venues; v++) {
    if (f.excluded[v] !== VenueExclusion.NONE) continue;
    if (f.latencyUs[v] < minLatency) minLatency = f.latencyUs[v];
    if (f.feeCentiBps[v] < minFee) minFee = f.feeCentiBps[v];
    const px = f.px[v];
    if (px > 0) bestPrice = buy ? Math.min(bestPrice, px) : Math.max(bestPrice, px);
  }
  const anyQuote = buy ? bestPrice !== Infinity : bestPrice !== 0;
  for (let v = 1; v < f.venues; v++) {
    if (f.excluded[v] !== VenueExclusion.NONE) {
      f.priceScore[v] = f.latencyScore[v] = f.fillScore[v] = f.feeScore[v] = f.score[v] = -1;
      continue;
    }
    const px = f.px[v];
    let priceScore = 1;
    if (anyQuote) priceScore = px > 0 ? (buy ? bestPrice / px : px / bestPrice) : 0;
    const latencyScore = f.latencyUs[v] <= 0 ? 1 : minLatency / f.latencyUs[v];
    const fillScore = f.fillProb[v];
    const feeScore = (minFee + 1) / (f.feeCentiBps[v] + 1);
    f.priceScore[v] = priceScore;
    f.latencyScore[v] = latencyScore;
    f.fillScore[v] = fillScore;
    f.feeScore[v] = feeScore;
    f.score[v] = w.price * priceScore + w.latency * latencyScore + w.fillprob * fillScore + w.fee * feeScore;
  }
}

/**
 * Scores, prices and allocates one decision. Returns the routed quantity (also in f.routedQty);
 * 0 when nothing could be routed. collarBps and tickTicks shape market orders' prices; f.lastStep
 * is an input (whether another decision may follow).
 */
export function decide(f: RouteFeatures, w: Weights, mode: number, collarBps: number, tickTicks: number): number {
  scoreVenues(f, w);
  f.childQty.fill(0);
  f.away.fill(0);
  f.routedQty = 0;
  f.rankCount = 0;
  // FOK first: a market FOK stays all-or-none (whole, to one venue, one attempt).
  f.childTif = f.tif === Tif.FOK ? Tif.FOK : f.ordType === OrdType.MARKET || f.tif === Tif.IOC ? Tif.IOC : Tif.DAY;
  const marketable = priceChildren(f, collarBps, tickTicks);
  if (f.childPx < 0) return 0;
  // A marketable DAY/GTC limit, an IOC limit and a market order sweep: IOC children at the
  // NBBO (market: the collar), the rest decided again on the fresh book when they end. A FOK is
  // one all-or-none attempt.
  f.sweep = marketable && !f.lastStep && f.childTif !== Tif.FOK;
  if (f.sweep) f.childTif = Tif.IOC;
  rankCandidates(f, marketable);
  if (f.rankCount === 0) return 0;
  if (f.childTif === Tif.FOK) return placeWhole(f);
  if (mode === SorMode.SPLIT) splitByScoreAndSize(f, marketable);
  else placeInRankOrder(f, f.qty, Infinity, false);
  return f.routedQty;
}

/** Sets f.childPx (-1: no price possible); returns whether the order takes displayed liquidity. */
function priceChildren(f: RouteFeatures, collarBps: number, tickTicks: number): boolean {
  const buy = f.side === Side.BUY;
  const touch = buy ? f.nbbAsk : f.nbbBid;
  if (f.ordType === OrdType.MARKET) {
    if (touch <= 0) {
      f.childPx = -1;
      return true;
    }
    const collar = Math.floor((touch * collarBps) / 10_000);
    if (buy) f.childPx = Math.floor((touch + collar) / tickTicks) * tickTicks;
    else f.childPx = Math.max(tickTicks, Math.ceil((touch - collar) / tickTicks) * tickTicks);
    // Later sweep steps carry the first decision's collar price as limitTicks (the SOR sets it):
    // never beyond it, however the market moved; past it the order is a limit at that price.
    if (f.limitTicks <= 0) return true;
    f.childPx = buy ? Math.min(f.childPx, f.limitTicks) : Math.max(f.childPx, f.limitTicks);
    return crosses(buy, f.limitTicks, touch);
  }
  const marketable = crosses(buy, f.limitTicks, touch);
  f.childPx = marketable ? touch : f.limitTicks;
  return marketable;
}

/** Whether a limit reaches the touch (buy: at or above the ask); never without a touch. */
function crosses(buy: boolean, limitTicks: number, touch: number): boolean {
  return touch > 0 && (buy ? limitTicks >= touch : limitTicks <= touch);
}

/** Candidates by score, best first; a marketable order's only at the best reachable price. */
function rankCandidates(f: RouteFeatures, marketable: boolean): void {
  const buy = f.side === Side.BUY;
  let reach = buy ? Infinity : 0;
  if (marketable) {
    for (let v = 1; v < f.venues; v++) {
      if (f.excluded[v] !== VenueExclusion.NONE || f.px[v] <= 0) continue;
      reach = buy ? Math.min(reach, f.px[v]) : Math.max(reach, f.px[v]);
    }
  }
  let n = 0;
  for (let v = 1; v < f.venues; v++) {
    if (f.excluded[v] !== VenueExclusion.NONE) continue;
    if (marketable && f.px[v] !== reach) {
      f.away[v] = VenueExclusion.AWAY_FROM_NBBO;
      continue;
    }
    // Insertion: higher score first, ties keep the lower id first (stable, ids ascending).
    let i = n++;
    while (i > 0 && f.score[f.rank[i - 1]] < f.score[v]) {
      f.rank[i] = f.rank[i - 1];
      i--;
    }
    f.rank[i] = v;
  }
  f.rankCount = n;
}

/** The quantity a venue accepts out of `want`: whole lots, at least its minimum, else 0. */
function acceptable(f: RouteFeatures, v: number, want: number): number {
  const lot = f.lotSize[v] > 0 ? f.lotSize[v] : 1;
  const q = Math.floor(want / lot) * lot;
  return q >= f.minQty[v] && q > 0 ? q : 0;
}

function give(f: RouteFeatures, v: number, q: number): void {
  f.childQty[v] += q;
  f.routedQty += q;
}

/** FOK: the whole quantity to the best venue that accepts it whole. */
function placeWhole(f: RouteFeatures): number {
  for (let i = 0; i < f.rankCount; i++) {
    const v = f.rank[i];
    if (acceptable(f, v, f.qty) === f.qty) {
      give(f, v, f.qty);
      return f.routedQty;
    }
  }
  return 0;
}

/**
 * Gives up to `left` down the ranking, each venue at most `cap` (or its displayed quantity when
 * capByDisplay) on top of what it has; returns what is left.
 */
function placeInRankOrder(f: RouteFeatures, left: number, cap: number, capByDisplay: boolean): number {
  for (let i = 0; i < f.rankCount && left > 0; i++) {
    const v = f.rank[i];
    const room = capByDisplay ? f.dispQty[v] - f.childQty[v] : cap;
    if (room <= 0) continue;
    const q = acceptable(f, v, Math.min(left, room));
    if (q === 0) continue;
    give(f, v, q);
    left -= q;
  }
  return left;
}

function splitByScoreAndSize(f: RouteFeatures, marketable: boolean): void {
  let total = 0;
  for (let i = 0; i < f.rankCount; i++) {
    const v = f.rank[i];
    total += Math.max(f.score[v], 0) * f.dispQty[v];
  }
  const bySize = total > 0;
  if (!bySize) for (let i = 0; i < f.rankCount; i++) total += Math.max(f.score[f.rank[i]], 0);
  let left = f.qty;
  if (total > 0) {
    for (let i = 0; i < f.rankCount; i++) {
      const v = f.rank[i];
      const weight = Math.max(f.score[v], 0) * (bySize ? f.dispQty[v] : 1);
      // The epsilon keeps an exact share (300.0 computed as 299.99999999999997) from losing a share.
      let share = Math.floor((f.qty * weight) / total + 1e-7);
      if (marketable && share > f.dispQty[v]) share = f.dispQty[v];
      const q = acceptable(f, v, Math.min(share, left));
      if (q === 0) continue;
      give(f, v, q);
      left -= q;
    }
  }
  // What rounding left: first into displayed size (marketable), then to the ranking, top first.
  if (marketable && left > 0) left = placeInRankOrder(f, left, 0, true);
  if (left > 0) placeInRankOrder(f, left, Infinity, false);
}
