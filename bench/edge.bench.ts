/**
 * Edge encoding benchmark: an execution report from the risk -> ingest ring to the bytes of its
 * WebSocket JSON text frame, on one core, beside what ingest did before in the same run.
 *
 *   EXEC_REPORT records (ack, partial fill, fill, cancel, reject, cancel reject), laid end to end
 *   in one buffer as the ring holds them, read through one flyweight:
 *
 *     ours:     ReportJsonWriter.write(r)                  bytes into one reused buffer
 *     baseline: JSON.stringify(reportToJson(r, ...))       message object, strings, then JSON
 *
 *   Both give the same bytes (workers/ingest/report-json-writer.test.ts holds them to that; this
 *   bench checks it again on its corpus before timing).
 *
 * Figures: msgs/s, the median of timed rounds interleaving both cases (bench/lib/fix-rounds.ts);
 * JS heap bytes allocated per message, from V8's GC statistics over `allocMessages` messages
 * after warm-up (bench/lib/heap-alloc.ts, as bench:heap measures it). The hot-path rule is "no
 * allocation per message": the goal is under one byte per message on average.
 *
 * Run: `npm run bench:edge` (writes bench/results/edge.json); --quick (tiny inputs; writes only
 * with --out), --out DIR, --rounds N, --round-ms N. runEdgeBench is exported for the smoke test.
 */

import { EXEC_REPORT_LENGTH, ExecReportFlyweight } from '../codecs/records.ts';
import { OrdType, Side, Tif } from '../engine/domain.ts';
import { PRICE_SCALE } from '../engine/fixed-point.ts';
import { ExecType, OrderState } from '../engine/order-state.ts';
import { Mulberry32 } from '../engine/prng.ts';
import { Reason } from '../engine/reasons.ts';
import { reportToJson } from '../workers/ingest/order-json.ts';
import { ReportJsonWriter } from '../workers/ingest/report-json-writer.ts';
import { runRounds, type CaseResult, type ThroughputCase } from './lib/fix-rounds.ts';
import { AllocationWindow } from './lib/heap-alloc.ts';
import { roundsBenchMain } from './lib/rounds-main.ts';
import { figure, type Figure } from './lib/results.ts';
import { formatRate } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

export interface EdgeBenchConfig {
  /** Reports in the corpus. */
  messages: number;
  seed: number;
  rounds: number;
  roundMs: number;
  warmupMs: number;
  /** Messages encoded per case for the allocation figure. */
  allocMessages: number;
}

export const FULL_CONFIG: EdgeBenchConfig = { messages: 4096, seed: 11, rounds: 11, roundMs: 150, warmupMs: 300, allocMessages: 2_000_000 };
export const QUICK_CONFIG: EdgeBenchConfig = { messages: 256, seed: 11, rounds: 2, roundMs: 5, warmupMs: 5, allocMessages: 20_000 };

const SYMBOLS = ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'TSLA', 'META', 'JPM'];
const VENUES = ['', 'NYSE', 'NASDAQ', 'BATS', 'IEX', 'ARCA'];

/** The report kinds of a trading day, roughly in the proportions a client sees them. */
const KINDS = [
  { execType: ExecType.NEW, state: OrderState.NEW, reason: Reason.NONE, weight: 4 },
  { execType: ExecType.PARTIAL_FILL, state: OrderState.PARTIALLY_FILLED, reason: Reason.NONE, weight: 2 },
  { execType: ExecType.FILL, state: OrderState.FILLED, reason: Reason.NONE, weight: 2 },
  { execType: ExecType.CANCELED, state: OrderState.CANCELED, reason: Reason.NONE, weight: 1 },
  { execType: ExecType.REJECTED, state: OrderState.REJECTED, reason: Reason.RATE_LIMITED, weight: 1 },
  { execType: ExecType.CANCEL_REJECT, state: OrderState.NEW, reason: Reason.UNKNOWN_ORDER, weight: 1 },
] as const;

interface ReportCorpus {
  bytes: Uint8Array;
  view: DataView;
  count: number;
}

/** Seeded reports, end to end in one buffer. */
function buildReports(messages: number, seed: number): ReportCorpus {
  const bytes = new Uint8Array(messages * EXEC_REPORT_LENGTH);
  const view = new DataView(bytes.buffer);
  const rng = new Mulberry32(seed);
  const r = new ExecReportFlyweight();
  const weights = KINDS.reduce((a, k) => a + k.weight, 0);
  for (let i = 0; i < messages; i++) {
    let pick = rng.nextInt(weights);
    const kind = KINDS.find((k) => (pick -= k.weight) < 0)!;
    r.wrap(view, bytes, i * EXEC_REPORT_LENGTH);
    const qty = 100 * (1 + rng.nextInt(50));
    // One report in eight priced past $1,073.74 (2^30 ticks), where a boxed number would show.
    const dollars = rng.nextInt(8) === 0 ? 1_100 + rng.nextInt(8_000) : 50 + rng.nextInt(400);
    const price = dollars * PRICE_SCALE + rng.nextInt(100) * 10_000;
    const filled = kind.execType === ExecType.FILL ? qty : kind.execType === ExecType.PARTIAL_FILL ? qty / 2 : 0;
    const cl = Buffer.from(`cl-${seed}-${i}`, 'latin1');
    r.setOrderId(1_000_000 + i).setEventSeq(5_000_000 + i).setAccountId(1 + rng.nextInt(8));
    r.setExecType(kind.execType).setState(kind.state).setReason(kind.reason);
    r.setSide(rng.nextInt(2) === 0 ? Side.BUY : Side.SELL).setOrdType(OrdType.LIMIT).setTif(Tif.DAY);
    r.setSymbolId(rng.nextInt(SYMBOLS.length)).setVenueId(1 + rng.nextInt(VENUES.length - 1));
    r.setQty(qty).setPriceTicks(price).setCumQty(filled).setCumNotionalTicks(filled * price).setLeavesQty(qty - filled);
    if (filled > 0) r.setLastQty(filled).setLastPxTicks(price);
    r.setClOrdId(cl, 0, cl.length);
    if (kind.execType === ExecType.CANCELED || kind.execType === ExecType.CANCEL_REJECT) {
      const orig = Buffer.from(`cl-${seed}-${i}-o`, 'latin1');
      r.setOrigClOrdId(orig, 0, orig.length);
    }
  }
  return { bytes, view, count: messages };
}

type Encode = (r: ExecReportFlyweight) => number;

function encoders(): { ours: Encode; baseline: Encode; oursText: (r: ExecReportFlyweight) => string; baselineText: (r: ExecReportFlyweight) => string } {
  const writer = new ReportJsonWriter(SYMBOLS, VENUES);
  const scratch = new Uint8Array(64);
  const baselineText = (r: ExecReportFlyweight): string => JSON.stringify(reportToJson(r, SYMBOLS, VENUES, scratch));
  return {
    ours: (r) => writer.write(r),
    baseline: (r) => baselineText(r).length,
    oursText: (r) => Buffer.from(writer.bytes.subarray(0, writer.write(r))).toString('utf8'),
    baselineText,
  };
}

/** One pass over the corpus; returns the bytes written (the checksum). */
function passOf(corpus: ReportCorpus, encode: Encode): () => number {
  const r = new ExecReportFlyweight();
  return () => {
    let sum = 0;
    for (let i = 0; i < corpus.count; i++) sum += encode(r.wrap(corpus.view, corpus.bytes, i * EXEC_REPORT_LENGTH));
    return sum;
  };
}

/** JS heap bytes allocated per message over `messages` encodes (after a warm-up pass). */
function allocatedPerMessage(corpus: ReportCorpus, encode: Encode, messages: number): number {
  const pass = passOf(corpus, encode);
  const passes = Math.max(1, Math.round(messages / corpus.count));
  let checksum = pass();
  const window = new AllocationWindow();
  window.open();
  for (let p = 0; p < passes; p++) checksum = (checksum + pass()) | 0;
  const allocated = window.close();
  if (checksum === 0.5) console.log(checksum); // keeps the work observable
  return allocated / (passes * corpus.count);
}

export interface EdgeBenchReport {
  config: EdgeBenchConfig;
  meanFrameBytes: number;
  throughput: Record<'ours' | 'baseline', CaseResult>;
  heapBytesPerMsg: Record<'ours' | 'baseline', number>;
  checksum: number;
  figures: Record<string, Figure>;
}

export function runEdgeBench(config: EdgeBenchConfig, log: (line: string) => void = () => {}): EdgeBenchReport {
  const corpus = buildReports(config.messages, config.seed);
  const enc = encoders();
  // The same bytes, or the comparison means nothing.
  const r = new ExecReportFlyweight();
  let frameBytes = 0;
  for (let i = 0; i < corpus.count; i++) {
    r.wrap(corpus.view, corpus.bytes, i * EXEC_REPORT_LENGTH);
    const ours = enc.oursText(r);
    if (ours !== enc.baselineText(r)) throw new Error(`edge bench: report ${i} encodes differently:\n${ours}\n${enc.baselineText(r)}`);
    frameBytes += Buffer.byteLength(ours);
  }
  const cases: ThroughputCase[] = [
    { id: 'ours', messagesPerPass: corpus.count, pass: passOf(corpus, enc.ours) },
    { id: 'baseline', messagesPerPass: corpus.count, pass: passOf(corpus, enc.baseline) },
  ];
  const rounds = runRounds(cases, config, (id) => log(`timing ${id}`));
  log('allocation');
  const heapBytesPerMsg = { ours: allocatedPerMessage(corpus, enc.ours, config.allocMessages), baseline: allocatedPerMessage(corpus, enc.baseline, config.allocMessages) };
  const throughput = { ours: rounds.results.get('ours')!, baseline: rounds.results.get('baseline')! };
  const baselineOf = 'JSON.stringify(reportToJson(r)): the message object ingest built per report before, same run';
  const figures: Record<string, Figure> = {
    report_json_msgs_per_s: figure(throughput.ours.msgsPerS.median, 'msgs/s', '(report)', throughput.baseline.msgsPerS.median, baselineOf, { min: throughput.ours.msgsPerS.min, max: throughput.ours.msgsPerS.max }),
    report_json_heap_bytes_per_msg: figure(round2(heapBytesPerMsg.ours), 'B', '< 1', round2(heapBytesPerMsg.baseline), baselineOf),
  };
  return { config, meanFrameBytes: Math.round(frameBytes / corpus.count), throughput, heapBytesPerMsg, checksum: rounds.checksum, figures };
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

function printReport(r: EdgeBenchReport): void {
  const row = (label: string, id: 'ours' | 'baseline') => {
    const t = r.throughput[id].msgsPerS;
    return [label, formatRate(t.median), `${formatRate(t.min)} - ${formatRate(t.max)}`, round2(r.heapBytesPerMsg[id])];
  };
  printTable(
    `EXEC_REPORT -> JSON text frame on one core (${r.meanFrameBytes} B mean frame; median of ${r.config.rounds} rounds)`,
    ['encoder', 'msgs/s', 'min - max', 'heap B/msg'],
    [row('ReportJsonWriter (ours)', 'ours'), row('reportToJson + JSON.stringify', 'baseline')],
  );
  const f = r.figures;
  console.log(`\nreport_json_msgs_per_s = ${formatRate(f.report_json_msgs_per_s.value)} (${(f.report_json_msgs_per_s.value / f.report_json_msgs_per_s.baseline!).toFixed(1)}x the baseline)`);
  console.log(`report_json_heap_bytes_per_msg = ${f.report_json_heap_bytes_per_msg.value} (goal ${f.report_json_heap_bytes_per_msg.goal}: ${f.report_json_heap_bytes_per_msg.met ? 'met' : 'NOT met'}; baseline ${f.report_json_heap_bytes_per_msg.baseline}); checksum ${r.checksum}`);
}

roundsBenchMain(import.meta.url, {
  name: 'edge',
  full: FULL_CONFIG,
  quick: QUICK_CONFIG,
  run: runEdgeBench,
  print: printReport,
  extra: (r) => ({
    meanFrameBytes: r.meanFrameBytes,
    throughput: r.throughput,
    heapBytesPerMsg: r.heapBytesPerMsg,
    method: {
      timing: 'own timed loops on the main thread (bench/lib/fix-rounds.ts): warm-up and calibration per case, then rounds interleaving both; median, min, max of per-round msgs/s',
      allocation: 'V8 GC statistics over allocMessages encodes after a warm-up pass: bytes allocated = growth of used heap between GCs (bench/lib/heap-alloc.ts AllocationWindow, as bench:heap)',
      corpus: 'seeded EXEC_REPORT records (ack 4 : partial 2 : fill 2 : cancel 1 : reject 1 : cancel reject 1), both encoders checked to give identical bytes first',
    },
    checksum: r.checksum,
  }),
});
