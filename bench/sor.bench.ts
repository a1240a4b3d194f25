/**
 * bench:sor: the SOR's routing decision time per order, for 3, 5 and 10 venues.
 *
 *   beforeEach (untimed): ROUTE_REQUEST written into the ring risk -> sor
 *   timed:                SorStage.doWork(): book -> NBBO, features, scores, allocation (SPLIT:
 *                         one child per venue, the worst case), CHILD_NEW records into the ring
 *                         sor -> fix, one ROUTE_AUDIT into the journal ring and one into ingest's
 *   afterEach (untimed):  outputs drained; each child's CANCELED fed back so the route closes
 *
 * Every venue is up with a fresh quote at the same best ask, so a marketable order splits over
 * all of them. Baseline, measured in the same run: the same decision written naively (an object
 * per venue, filter + map + sort, child objects, the audit built as an object and JSON.stringify'd)
 * over the same book, as a straightforward service would write it. Also reported: SINGLE_BEST
 * through the stage. Latencies are tinybench sample percentiles (ms converted to us). On these
 * shared 2-core machines absolute values drift; compare within the run.
 *
 *   npm run bench:sor [-- --quick] [-- --out DIR]
 */
import { BenchArgs } from './lib/args.ts';
import { Bench } from 'tinybench';
import { CHILD_EVENT_LENGTH, ChildEventFlyweight, ChildEventKind, ChildOrderFlyweight, QUOTE_LENGTH, QuoteFlyweight, ROUTE_REQUEST_LENGTH, RecordType, RouteRequestFlyweight, VENUE_STATUS_LENGTH, VenueStatusFlyweight } from '../codecs/records.ts';
import { SystemClock } from '../engine/clock.ts';
import { StageCounters } from '../engine/counters.ts';
import { OrdType, Side, Tif } from '../engine/domain.ts';
import { RingConsumer, RingProducer, createRingMemory, type RecordHandler } from '../engine/ring.ts';
import { Reason } from '../engine/reasons.ts';
import { SorStage, type VenueProfile } from '../workers/sor/sor-stage.ts';
import { SorMode } from '../workers/sor/venue-score.ts';
import { formatMachineInfo, machineInfo } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';

const PX = 1_000_000;
export const VENUE_COUNTS = [3, 5, 10] as const;
export const GOAL_5 = '<= 20';
export const BASELINE_OF = 'the same SPLIT decision written naively (objects, filter/sort, JSON audit), same run';

export interface SorBenchConfig {
  timeMs: number;
  warmupMs: number;
}
/**
 * tinybench counts only the timed decision (~1 µs) toward `timeMs`, not the untimed request and
 * settle around it or its own bookkeeping: 3000 ms gave about 3.4 M samples per task and 111 s
 * of wall time, an eighth of `npm run bench`'s 15-minute budget. 300 ms gives about a tenth of
 * the samples, ample for a p99.9, in 14 s; the warm-up is shortened in proportion.
 */
export const FULL_CONFIG: SorBenchConfig = { timeMs: 300, warmupMs: 100 };
export const QUICK_CONFIG: SorBenchConfig = { timeMs: 100, warmupMs: 20 };

/** A stage with `venues` venues up, all quoting 100.00 / 100.01 on symbol 0, and its rings. */
export class StageRig implements RecordHandler {
  readonly stage: SorStage;
  private readonly risk: RingProducer;
  private readonly fix: RingProducer;
  private readonly out: RingConsumer;
  private readonly journal: RingConsumer;
  private readonly ingest: RingConsumer;
  private readonly rq = new RouteRequestFlyweight();
  private readonly ev = new ChildEventFlyweight();
  private readonly child = new ChildOrderFlyweight();
  private readonly qt = new QuoteFlyweight();
  private readonly venues: number;
  private readonly clock: SystemClock;
  private readonly pendingIds = new Float64Array(64);
  private readonly pendingVenues = new Int32Array(64);
  private pending = 0;
  private orderId = 0;
  children = 0;
  audits = 0;

  constructor(venues: number, mode: number) {
    const m = { risk: createRingMemory(1 << 20), fix: createRingMemory(1 << 20), out: createRingMemory(1 << 20), journal: createRingMemory(1 << 22), ingest: createRingMemory(1 << 22) };
    this.risk = new RingProducer(m.risk, null);
    this.fix = new RingProducer(m.fix, null);
    this.out = new RingConsumer(m.out);
    this.journal = new RingConsumer(m.journal);
    this.ingest = new RingConsumer(m.ingest);
    const profiles: (VenueProfile | null)[] = [null];
    for (let v = 1; v <= venues; v++) profiles.push({ feeCentiBps: 10 + v, latencyUs: 100 + 20 * v, fillProbability: 0.9 - v / 100, minQty: 0, lotSize: 1 });
    const clock = new SystemClock(performance.timeOrigin);
    this.stage = new SorStage(
      { venues: profiles, symbolCount: 4, weights: { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 }, quoteStaleNs: 3600e9, childIdBase: 1, mode, childCapacity: 1 << 16, planCapacity: 1024 },
      { fromRisk: new RingConsumer(m.risk), fromFix: new RingConsumer(m.fix), toFix: new RingProducer(m.out, null), toPersistence: new RingProducer(m.journal, null), toIngest: new RingProducer(m.ingest, null) },
      clock,
      StageCounters.create(),
    );
    this.venues = venues;
    this.clock = clock;
    const vs = new VenueStatusFlyweight();
    for (let v = 1; v <= venues; v++) {
      const at = this.fix.tryClaim(RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
      vs.wrap(this.fix.view, this.fix.bytes, at).setTimeNs(clock.nowNs()).setVenueId(v).setUp(true);
    }
    this.quoteAll();
    this.fix.commit();
    while (this.stage.doWork() > 0);
  }

  /** Every venue's quote, the same book each time. */
  private quoteAll(): void {
    for (let v = 1; v <= this.venues; v++) {
      const at = this.fix.tryClaim(RecordType.QUOTE, QUOTE_LENGTH);
      this.qt.wrap(this.fix.view, this.fix.bytes, at).setTimeNs(this.clock.nowNs()).setBidTicks(100 * PX).setBidQty(100 * v)
        .setAskTicks(100 * PX + 10_000).setAskQty(100 * v).setVenueId(v).setSymbolId(0);
    }
  }

  /** Untimed: one marketable IOC buy into the ring from risk. */
  readonly request = (): void => {
    const at = this.risk.tryClaim(RecordType.ROUTE_REQUEST, ROUTE_REQUEST_LENGTH);
    this.rq.wrap(this.risk.view, this.risk.bytes, at).setOrderId(++this.orderId).setRecvTimeNs(0).setQty(1000).setPriceTicks(101 * PX)
      .setAccountId(1).setSymbolId(0).setSide(Side.BUY).setOrdType(OrdType.LIMIT).setTif(Tif.IOC);
    this.risk.commit();
  };

  /** Timed: the stage takes the request and decides. */
  readonly decide = (): void => {
    this.stage.doWork();
  };

  /**
   * Untimed: drain, cancel every child at its venue, let the route close, drain again. The venues
   * quote again first: an IOC child canceled on a quote no newer than its decision takes that
   * quote off the SOR's book (MarketBook.consume), and every order here is decided on the same
   * full book.
   */
  readonly settle = (): void => {
    this.drain();
    this.quoteAll();
    for (let i = 0; i < this.pending; i++) {
      const at = this.fix.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
      this.ev.wrap(this.fix.view, this.fix.bytes, at).setChildId(this.pendingIds[i]).setOrderId(this.orderId).setTimeNs(0)
        .setLastQty(0).setLastPxTicks(0).setQty(0).setPriceTicks(0).setVenueId(this.pendingVenues[i]).setReason(Reason.VENUE_CANCELED).setKind(ChildEventKind.CANCELED);
    }
    this.pending = 0;
    this.fix.commit();
    while (this.stage.doWork() > 0);
    this.drain();
  };

  private drain(): void {
    this.out.poll(this, 1 << 16);
    this.audits += this.journal.poll(NOOP, 1 << 16);
    this.ingest.poll(NOOP, 1 << 16);
  }

  onRecord(typeId: number, offset: number): void {
    if (typeId !== RecordType.CHILD_NEW) return;
    const c = this.child.wrap(this.out.view, this.out.bytes, offset);
    this.pendingIds[this.pending] = c.childId();
    this.pendingVenues[this.pending++] = c.venueId();
    this.children++;
  }
}

const NOOP: RecordHandler = { onRecord: () => {} };

// ----------------------------------------------------------------------------------------------
// The naive baseline: the same SPLIT decision over the same book, written the obvious way.
// ----------------------------------------------------------------------------------------------
interface NaiveVenue { id: number; name: string; up: boolean; bid: number; bidQty: number; ask: number; askQty: number; quoteTime: number; feeCentiBps: number; latencyUs: number; fillProbability: number }

function naiveVenues(n: number): NaiveVenue[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1, name: `V${i + 1}`, up: true, bid: 100 * PX, bidQty: 100 * (i + 1), ask: 100 * PX + 10_000, askQty: 100 * (i + 1),
    quoteTime: Date.now(), feeCentiBps: 11 + i, latencyUs: 120 + 20 * i, fillProbability: 0.89 - i / 100,
  }));
}

let naiveSink = 0;
function naiveDecide(order: { id: number; side: string; qty: number; limit: number }, venues: NaiveVenue[], w: { price: number; latency: number; fillprob: number; fee: number }): void {
  const now = Date.now();
  const live = venues.filter((v) => v.up && now - v.quoteTime < 3_600_000 && v.bid < v.ask);
  const best = Math.min(...live.map((v) => v.ask));
  const minLat = Math.min(...live.map((v) => v.latencyUs));
  const minFee = Math.min(...live.map((v) => v.feeCentiBps));
  const scored = live.map((v) => {
    const price = best / v.ask;
    const latency = minLat / v.latencyUs;
    const fee = (minFee + 1) / (v.feeCentiBps + 1);
    return { venue: v, scores: { price, latency, fillprob: v.fillProbability, fee }, total: w.price * price + w.latency * latency + w.fillprob * v.fillProbability + w.fee * fee };
  });
  const atTouch = scored.filter((s) => s.venue.ask === best).sort((a, b) => b.total - a.total || a.venue.id - b.venue.id);
  const total = atTouch.reduce((sum, s) => sum + s.total * s.venue.askQty, 0);
  let left = order.qty;
  const children = atTouch.map((s) => {
    const qty = Math.min(Math.floor((order.qty * s.total * s.venue.askQty) / total), s.venue.askQty, left);
    left -= qty;
    return { venue: s.venue.name, qty, price: best, tif: 'IOC' };
  }).filter((c) => c.qty > 0);
  if (left > 0 && children.length > 0) children[0].qty += left;
  const audit = {
    orderId: order.id,
    inputFeatures: { side: order.side, qty: order.qty, limit: order.limit, nbbo: { ask: best } },
    venues: scored.map((s) => ({ venue: s.venue.name, features: { ask: s.venue.ask, askQty: s.venue.askQty, latencyUs: s.venue.latencyUs }, scores: s.scores, total: s.total })),
    chosenRoutes: children,
    weights: w,
  };
  naiveSink += JSON.stringify(audit).length + children.length;
}

export interface SorBenchReport {
  figures: Record<string, Figure>;
  table: Record<string, unknown>[];
  checksum: number;
}

function us(ms: number): number {
  return Math.round(ms * 1000 * 1000) / 1000;
}

export async function runSorBench(config: SorBenchConfig): Promise<SorBenchReport> {
  const bench = new Bench({ time: config.timeMs, warmupTime: config.warmupMs, retainSamples: false });
  const rigs = new Map<string, StageRig>();
  const weights = { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 };
  for (const n of VENUE_COUNTS) {
    const split = new StageRig(n, SorMode.SPLIT);
    const single = new StageRig(n, SorMode.SINGLE_BEST);
    rigs.set(`split_${n}`, split);
    rigs.set(`single_${n}`, single);
    bench.add(`split_${n}`, split.decide, { beforeEach: split.request, afterEach: split.settle });
    bench.add(`single_${n}`, single.decide, { beforeEach: single.request, afterEach: single.settle });
    const venues = naiveVenues(n);
    let id = 0;
    bench.add(`naive_${n}`, () => naiveDecide({ id: ++id, side: 'BUY', qty: 1000, limit: 101 * PX }, venues, weights));
  }
  await bench.run();
  const stat = (name: string) => {
    const r = bench.getTask(name)!.result as unknown as { latency: { p50: number; p99: number; p999: number; max: number; samplesCount: number } };
    return { p50: us(r.latency.p50), p99: us(r.latency.p99), p999: us(r.latency.p999), max: us(r.latency.max), samples: r.latency.samplesCount };
  };
  const figures: Record<string, Figure> = {};
  const table: Record<string, unknown>[] = [];
  let checksum = naiveSink;
  for (const n of VENUE_COUNTS) {
    const split = stat(`split_${n}`);
    const single = stat(`single_${n}`);
    const naive = stat(`naive_${n}`);
    const rig = rigs.get(`split_${n}`)!;
    checksum += rig.children + rig.audits + rigs.get(`single_${n}`)!.children;
    figures[`decision_p99_us_${n}_venues`] = figure(split.p99, 'us', n === 5 ? GOAL_5 : '(report)', naive.p99, BASELINE_OF, { p50: split.p50, p999: split.p999, max: split.max, samples: split.samples, mode: 'SPLIT', baselineP50: naive.p50 });
    figures[`decision_single_best_p99_us_${n}_venues`] = figure(single.p99, 'us', '(report)', naive.p99, BASELINE_OF, { p50: single.p50, p999: single.p999, max: single.max, samples: single.samples, mode: 'SINGLE_BEST' });
    table.push({ venues: n, split, single, naive, childrenPerSplitOrder: rig.children / Math.max(1, rig.audits) });
  }
  return { figures, table, checksum };
}

async function main(): Promise<void> {
  const args = new BenchArgs(process.argv.slice(2));
  const quick = args.has('--quick');
  const out = args.value('--out');
  args.rejectUnknown();
  console.log(`bench:sor | ${formatMachineInfo(machineInfo())}`);
  const config = quick ? QUICK_CONFIG : FULL_CONFIG;
  const report = await runSorBench(config);
  console.log('venues | SPLIT p50 / p99 / p99.9 us | SINGLE_BEST p50 / p99 us | naive baseline p50 / p99 us');
  for (const row of report.table as { venues: number; split: Record<string, number>; single: Record<string, number>; naive: Record<string, number> }[]) {
    console.log(`${String(row.venues).padStart(6)} | ${row.split.p50} / ${row.split.p99} / ${row.split.p999} | ${row.single.p50} / ${row.single.p99} | ${row.naive.p50} / ${row.naive.p99}`);
  }
  const f5 = report.figures.decision_p99_us_5_venues;
  console.log(`decision_p99_us_5_venues = ${f5.value} us (goal ${f5.goal}: ${f5.met ? 'met' : 'NOT met'}), naive baseline ${f5.baseline} us; checksum ${report.checksum}`);
  const path = writeResults('sor', { ...config, venueCounts: VENUE_COUNTS, order: 'marketable IOC buy 1000, every venue at the touch' }, report.figures, { table: report.table, checksum: report.checksum }, out);
  console.log(`wrote ${path}`);
}

if (isMainModule(import.meta.url)) {
  main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
