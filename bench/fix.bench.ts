/**
 * FIX 4.4 codec and session benchmark: parse, validate and encode throughput on one core, beside
 * jspurefix on the same messages in the same run; then the session round trip over loopback.
 *
 *   Codec, on the main thread only (one core), every case over the same varied messages
 *   (bench/lib/fix-messages.ts: n NewOrderSingles as the engine sends them, n ExecutionReports as
 *   the venues send them, laid end to end in one buffer as they arrive from a socket):
 *
 *     stream bytes --> ours:      FixParser.parse   (framing, BodyLength, CheckSum, field index,
 *                  |                                 MsgType: what FixSession does per frame)
 *                  |              + FixValidator.validate (FIX 4.4 dictionary)
 *                  +-> jspurefix: AsciiParser -> MsgView + view.checksum()
 *                                 + invalid()/undefinedForMsg()/missing() (its session's checks)
 *     field values --> ours: FixEncoder (preallocated buffer)   jspurefix: AsciiMsgTransmitter
 *
 *   Round trip (bench/lib/fix-roundtrip.ts): a FixSession initiator over fix/tcp.ts on this
 *   process's main thread, paced open loop by a pacer thread, against sim/venue.ts in its own
 *   process (ack 35=8 150=0 per 35=D); beside it, the same schedule against a TCP echo process
 *   (the floor: loopback and two event loops, no FIX work).
 *
 * Throughput figures are medians of several timed rounds of our own loops (bench/lib/fix-rounds.ts),
 * rounds interleaving every case; latency figures are HDR percentiles from intended send times.
 *
 * Run: `npm run bench:fix` (writes bench/results/fix.json). Flags: --quick (tiny inputs; writes
 * only with --out), --out DIR, --rounds N, --round-ms N, --rates 1000,5000, --duration S,
 * --warmup S, --no-roundtrip. The measuring functions are exported for the smoke test.
 */

import { MsgType } from '../fix/msg-type.ts';
import { FixEncoder } from '../fix/encoder.ts';
import { FixParser } from '../fix/parser.ts';
import { FixValidator, VALIDATION_OK } from '../fix/validator.ts';
import { buildCorpus, encodeEr, encodeNos, meanLength, type FixCorpus, type FixStream } from './lib/fix-messages.ts';
import { JSPUREFIX_DICTIONARY, JSPUREFIX_VERSION, asBuffer, createJspfCases, type JspfCases, type JspfParseCase } from './lib/fix-jspurefix.ts';
import { EchoClient, VenueClient, startPeer, type PeerProcess, type RoundTripResult } from './lib/fix-roundtrip.ts';
import { runRounds, type CaseResult, type ThroughputCase } from './lib/fix-rounds.ts';
import { formatMachineInfo, machineInfo, watchCpu, type CpuShare } from './lib/machine.ts';
import { BenchArgs } from './lib/args.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { formatMicros, formatRate } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

export interface FixBenchConfig {
  /** Messages of each type in the corpus. */
  messages: number;
  seed: number;
  rounds: number;
  roundMs: number;
  warmupMs: number;
  /** Round-trip rates (orders/s); empty skips the round trip. */
  rates: number[];
  rtWarmupS: number;
  rtDurationS: number;
  rtDrainS: number;
  pacerGapUs: number;
}

export const FULL_CONFIG: FixBenchConfig = {
  messages: 2048, seed: 7, rounds: 11, roundMs: 150, warmupMs: 300,
  rates: [1000, 5000], rtWarmupS: 1, rtDurationS: 5, rtDrainS: 2, pacerGapUs: 100,
};

export const QUICK_CONFIG: FixBenchConfig = {
  messages: 64, seed: 7, rounds: 3, roundMs: 5, warmupMs: 5,
  rates: [200], rtWarmupS: 0.2, rtDurationS: 0.5, rtDrainS: 3, pacerGapUs: 100,
};

export const PARSE_GOAL = '>= 2000000';
export const JSPF_PARSE_OF = `jspurefix ${JSPUREFIX_VERSION} AsciiParser + view.checksum(), same messages, same run`;
export const ECHO_BASELINE_OF = 'TCP echo process (loopback floor, no FIX work), same schedule, same run';

const KINDS = ['nos', 'er'] as const;
type Kind = (typeof KINDS)[number];
const KIND_LABEL: Record<Kind, string> = { nos: 'NewOrderSingle', er: 'ExecutionReport' };

// ------------------------------------------------------------------------------------ codec cases

/** Our parser over the stream: what FixSession.drain does per frame. */
function oursParse(stream: FixStream, validate: boolean, expectedType: number): ThroughputCase {
  const parser = new FixParser();
  const validator = new FixValidator();
  const bytes = stream.bytes;
  const end = bytes.length;
  return {
    id: '',
    messagesPerPass: stream.count,
    pass(): number {
      let acc = 0;
      let p = 0;
      while (p < end) {
        const r = parser.parse(bytes, p, end);
        if (r <= 0 || parser.msgType !== expectedType) throw new Error(`Invariant: corpus message at ${p} parses (${r})`);
        if (validate && validator.validate(parser) !== VALIDATION_OK) throw new Error(`Invariant: corpus message at ${p} validates`);
        acc = (acc + parser.fieldCount + r) | 0;
        p += r;
      }
      return acc;
    },
  };
}

function oursEncode(corpus: FixCorpus, kind: Kind): ThroughputCase {
  const enc = new FixEncoder();
  const n = corpus.nos.count;
  const { text, nosFields, erFields } = corpus;
  return {
    id: '',
    messagesPerPass: n,
    pass(): number {
      let acc = 0;
      if (kind === 'nos') for (let i = 0; i < n; i++) acc = (acc + encodeNos(enc, text, nosFields, i)) | 0;
      else for (let i = 0; i < n; i++) acc = (acc + encodeEr(enc, text, erFields, i)) | 0;
      return acc;
    },
  };
}

function jspfParse(c: JspfParseCase, stream: FixStream): ThroughputCase {
  const buf = asBuffer(stream);
  return {
    id: '',
    messagesPerPass: stream.count,
    pass(): number {
      const before = c.messages;
      c.parse(buf);
      if (c.messages - before !== stream.count) throw new Error('Invariant: jspurefix saw every message of the pass');
      return c.checksumSum | 0;
    },
  };
}

function jspfEncode(cases: JspfCases, kind: Kind, n: number): ThroughputCase {
  const c = kind === 'nos' ? cases.encodeNos : cases.encodeEr;
  return {
    id: '',
    messagesPerPass: n,
    pass(): number {
      let acc = 0;
      for (let i = 0; i < n; i++) acc = (acc + c.encode(i)) | 0;
      return acc;
    },
  };
}

/** Case ids: `<impl>.<op>.<kind>`, e.g. ours.parse.er, jspurefix.validate.nos. */
export function caseId(impl: 'ours' | 'jspurefix', op: 'parse' | 'validate' | 'encode', kind: Kind): string {
  return `${impl}.${op}.${kind}`;
}

function codecCases(corpus: FixCorpus, jspf: JspfCases): ThroughputCase[] {
  const cases: ThroughputCase[] = [];
  const add = (id: string, c: ThroughputCase) => cases.push({ ...c, id });
  for (const kind of KINDS) {
    const stream = kind === 'nos' ? corpus.nos : corpus.er;
    const type = kind === 'nos' ? MsgType.NEW_ORDER_SINGLE : MsgType.EXECUTION_REPORT;
    add(caseId('ours', 'parse', kind), oursParse(stream, false, type));
    add(caseId('jspurefix', 'parse', kind), jspfParse(jspf.parse, stream));
    add(caseId('ours', 'validate', kind), oursParse(stream, true, type));
    add(caseId('jspurefix', 'validate', kind), jspfParse(jspf.parseValidate, stream));
    add(caseId('ours', 'encode', kind), oursEncode(corpus, kind));
    add(caseId('jspurefix', 'encode', kind), jspfEncode(jspf, kind, stream.count));
  }
  return cases;
}

/** jspurefix must read our bytes as we do: every message, every CheckSum right, valid to its dictionary. */
function checkJspfAgrees(jspf: JspfCases, corpus: FixCorpus): void {
  for (const c of [jspf.parse, jspf.parseValidate]) {
    for (const stream of [corpus.nos, corpus.er]) {
      c.reset();
      c.parse(asBuffer(stream));
      if (c.messages !== stream.count || c.checksumErrors !== 0 || c.invalidMessages !== 0) {
        throw new Error(`Invariant: jspurefix reads the corpus (${c.messages}/${stream.count} messages, ${c.checksumErrors} checksum errors, ${c.invalidMessages} invalid)`);
      }
    }
    c.reset();
  }
  // And our parser must read what jspurefix's encoder writes (so its encode figure is for valid FIX).
  const parser = new FixParser();
  for (const [c, n] of [[jspf.encodeNos, corpus.nos.count], [jspf.encodeEr, corpus.er.count]] as const) {
    for (let i = 0; i < n; i++) {
      c.encode(i);
      const bytes = c.lastBytes();
      if (parser.parse(bytes, 0, bytes.length) !== bytes.length) throw new Error(`Invariant: jspurefix encodes a valid frame (${c.lastText()})`);
    }
  }
}

// ------------------------------------------------------------------------------------ the run

export interface FixBenchReport {
  config: FixBenchConfig;
  corpus: { messages: number; seed: number; meanBytes: Record<Kind, number> };
  codec: Record<string, CaseResult>;
  checksum: number;
  roundTrip: RoundTripResult[];
  figures: Record<string, Figure>;
  conditionsByPhase: { codec: CpuShare; roundTrip: CpuShare };
  wallS: number;
}

export async function runCodec(config: FixBenchConfig, log: (line: string) => void): Promise<{ corpus: FixCorpus; codec: Record<string, CaseResult>; checksum: number }> {
  const corpus = buildCorpus(config.messages, config.seed);
  log(`corpus: ${config.messages} NewOrderSingles (mean ${meanLength(corpus.nos)} B), ${config.messages} ExecutionReports (mean ${meanLength(corpus.er)} B), seed ${config.seed}; all valid FIX 4.4`);
  const jspf = await createJspfCases(corpus.nosFields, corpus.erFields);
  checkJspfAgrees(jspf, corpus);
  log(`jspurefix ${JSPUREFIX_VERSION} (${JSPUREFIX_DICTIONARY}) reads every message with the right CheckSum and finds it valid; our parser frames every message jspurefix encodes`);
  const cases = codecCases(corpus, jspf);
  const report = runRounds(cases, config, (id) => log(`warming up ${id}`));
  return { corpus, codec: Object.fromEntries(report.results), checksum: report.checksum };
}

export async function runRoundTrips(config: FixBenchConfig, log: (line: string) => void): Promise<RoundTripResult[]> {
  if (config.rates.length === 0) return [];
  const out: RoundTripResult[] = [];
  const peers: PeerProcess[] = [];
  let venue: VenueClient | null = null;
  let echo: EchoClient | null = null;
  try {
    const venuePeer = await startPeer('venue');
    peers.push(venuePeer);
    const echoPeer = await startPeer('echo');
    peers.push(echoPeer);
    venue = new VenueClient(venuePeer.port);
    await venue.start();
    echo = await EchoClient.connect(echoPeer.port);
    log(`round trip: venue sim/venue.ts pid ${venuePeer.pid} port ${venuePeer.port}, echo pid ${echoPeer.pid} port ${echoPeer.port}`);
    let run = 0;
    for (const rate of config.rates) {
      const options = {
        rate, warmupMs: config.rtWarmupS * 1000, durationMs: config.rtDurationS * 1000, drainMs: config.rtDrainS * 1000,
        pacerGapMs: config.pacerGapUs / 1000, idBase: ++run * 100_000_000,
      };
      // Venue first at one rate, echo first at the next: neither always runs on a fresher machine.
      const order = run % 2 === 1 ? ['venue', 'echo'] : ['echo', 'venue'];
      for (const peer of order) {
        log(`round trip at ${rate}/s against ${peer} (${config.rtWarmupS + config.rtDurationS} s)`);
        out.push(peer === 'venue' ? await venue.run(options) : await echo.run({ ...options, idBase: options.idBase + 50_000_000 }));
      }
    }
  } finally {
    if (venue !== null) await venue.stop();
    if (echo !== null) await echo.stop();
    for (const p of peers) await p.stop();
  }
  return out;
}

export function rateLabel(rate: number): string {
  return rate % 1000 === 0 ? `${rate / 1000}k` : String(rate);
}

function median(c: Record<string, CaseResult>, id: string): number {
  const r = c[id];
  if (r === undefined) throw new Error(`Invariant: case ${id} ran`);
  return r.msgsPerS.median;
}

export function buildFigures(codec: Record<string, CaseResult>, roundTrip: RoundTripResult[]): Record<string, Figure> {
  const figures: Record<string, Figure> = {};
  const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
  // Headline: the slower of the two message types (ExecutionReports are longer).
  const slower: Kind = median(codec, caseId('ours', 'parse', 'nos')) <= median(codec, caseId('ours', 'parse', 'er')) ? 'nos' : 'er';
  const head = median(codec, caseId('ours', 'parse', slower));
  const headBase = median(codec, caseId('jspurefix', 'parse', slower));
  figures.parse_msgs_per_s = figure(head, 'msgs/s', PARSE_GOAL, headBase, JSPF_PARSE_OF, { messageType: KIND_LABEL[slower], ratio: ratio(head, headBase), note: 'the slower of NewOrderSingle and ExecutionReport' });
  for (const kind of KINDS) {
    const label = KIND_LABEL[kind];
    const p = median(codec, caseId('ours', 'parse', kind));
    const pb = median(codec, caseId('jspurefix', 'parse', kind));
    figures[`parse_msgs_per_s_${kind}`] = figure(p, 'msgs/s', PARSE_GOAL, pb, JSPF_PARSE_OF, { messageType: label, ratio: ratio(p, pb) });
    const v = median(codec, caseId('ours', 'validate', kind));
    const vb = median(codec, caseId('jspurefix', 'validate', kind));
    figures[`parse_validate_msgs_per_s_${kind}`] = figure(v, 'msgs/s', '(report)', vb, `jspurefix ${JSPUREFIX_VERSION} parse + checksum + invalid/undefinedForMsg/missing, same run`, { messageType: label, ratio: ratio(v, vb) });
    const e = median(codec, caseId('ours', 'encode', kind));
    const eb = median(codec, caseId('jspurefix', 'encode', kind));
    figures[`encode_msgs_per_s_${kind}`] = figure(e, 'msgs/s', '(report)', eb, `jspurefix ${JSPUREFIX_VERSION} encoder reset + AsciiMsgTransmitter.encodeMessage + trim from objects, same run`, { messageType: label, ratio: ratio(e, eb) });
  }
  const venueRuns = roundTrip.filter((r) => r.peer === 'venue');
  if (venueRuns.length > 0) {
    const echoAt = (rate: number) => roundTrip.find((r) => r.peer === 'echo' && r.rate === rate) ?? null;
    const details = (r: RoundTripResult) => ({ rate: r.rate, peer: 'sim/venue.ts, separate process', p50: r.latencyUs.p50, p999: r.latencyUs.p999, max: r.latencyUs.max, allAcked: r.acked === r.orders });
    for (const r of venueRuns) {
      figures[`session_roundtrip_p99_us_at_${rateLabel(r.rate)}`] = figure(r.latencyUs.p99, 'us', '(report)', echoAt(r.rate)?.latencyUs.p99 ?? null, ECHO_BASELINE_OF, details(r));
    }
    const top = venueRuns.reduce((a, b) => (b.rate > a.rate ? b : a));
    figures.session_roundtrip_p99_us = figure(top.latencyUs.p99, 'us', '(report)', echoAt(top.rate)?.latencyUs.p99 ?? null, ECHO_BASELINE_OF, { ...details(top), note: 'at the highest rate measured' });
  }
  return figures;
}

export async function runFixBench(config: FixBenchConfig, log: (line: string) => void = () => {}): Promise<FixBenchReport> {
  const wall0 = performance.now();
  // CPU used by other processes in each phase: on a shared machine it explains a bad figure.
  const codecCpu = watchCpu();
  const { corpus, codec, checksum } = await runCodec(config, log);
  const codecConditions = codecCpu();
  const roundTripCpu = watchCpu();
  const roundTrip = await runRoundTrips(config, log);
  const roundTripConditions = roundTripCpu();
  return {
    config,
    corpus: { messages: config.messages, seed: config.seed, meanBytes: { nos: meanLength(corpus.nos), er: meanLength(corpus.er) } },
    codec,
    checksum,
    roundTrip,
    figures: buildFigures(codec, roundTrip),
    conditionsByPhase: { codec: codecConditions, roundTrip: roundTripConditions },
    wallS: Math.round((performance.now() - wall0) / 100) / 10,
  };
}

// ------------------------------------------------------------------------------------ output

function printReport(r: FixBenchReport): void {
  const rows: (string | number)[][] = [];
  const ops = [['parse', 'parse (frame+checksum+index)'], ['validate', 'parse + dictionary validation'], ['encode', 'encode']] as const;
  for (const kind of KINDS) {
    for (const [op, label] of ops) {
      const ours = r.codec[caseId('ours', op, kind)].msgsPerS;
      const base = r.codec[caseId('jspurefix', op, kind)].msgsPerS;
      rows.push([KIND_LABEL[kind], label, formatRate(ours.median), `${formatRate(ours.min)} - ${formatRate(ours.max)}`, formatRate(base.median), `${(ours.median / base.median).toFixed(1)}x`]);
    }
  }
  printTable(`FIX codec on one core, msgs/s (median of ${r.config.rounds} rounds; min - max)`, ['message', 'operation', 'ours', 'ours min - max', 'jspurefix', 'ours/jspurefix'], rows);
  if (r.roundTrip.length > 0) {
    const rt = r.roundTrip.map((x) => [
      `${x.rate}/s`, x.peer === 'venue' ? 'FIX session -> sim venue' : 'TCP echo (floor)',
      formatMicros(x.latencyUs.p50), formatMicros(x.latencyUs.p99), formatMicros(x.latencyUs.p999), formatMicros(x.latencyUs.max),
      formatMicros(x.sendLagUs.p99), `${x.acked}/${x.orders}`,
    ]);
    printTable('Round trip 35=D -> 35=8 ack over loopback, open loop, µs from intended send time', ['rate', 'peer', 'p50', 'p99', 'p99.9', 'max', 'send lag p99', 'answered'], rt);
  }
  const goal = r.figures.parse_msgs_per_s;
  console.log(`\nparse_msgs_per_s = ${formatRate(goal.value)} (${goal.messageType}; goal ${goal.goal}: ${goal.met ? 'met' : 'NOT met'}); checksum ${r.checksum}`);
}

function parseArgs(argv: string[]): { config: FixBenchConfig; quick: boolean; out: string | null } {
  const args = new BenchArgs(argv);
  const quick = args.has('--quick');
  const config: FixBenchConfig = { ...(quick ? QUICK_CONFIG : FULL_CONFIG) };
  config.rounds = args.num('--rounds', config.rounds, 1);
  config.roundMs = args.num('--round-ms', config.roundMs, 1);
  config.rtDurationS = args.num('--duration', config.rtDurationS, 0.1);
  config.rtWarmupS = args.num('--warmup', config.rtWarmupS, 0);
  config.rates = args.positiveList('--rates', config.rates);
  if (args.has('--no-roundtrip')) config.rates = [];
  const out = args.value('--out') ?? null;
  args.rejectUnknown();
  return { config, quick, out };
}

async function main(): Promise<void> {
  const { config, quick, out } = parseArgs(process.argv.slice(2));
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`fix bench${quick ? ' (--quick smoke run)' : ''}: ${JSON.stringify(config)}`);
  const cpu = watchCpu();
  const report = await runFixBench(config, (line) => console.log(`  ${line}`));
  printReport(report);
  const conditions = cpu();
  const phase = report.conditionsByPhase;
  console.log(`\ntook ${conditions.wallS} s; CPU used by this process ${conditions.processS} s; machine busy ${conditions.machineBusyS} s`);
  console.log(`other processes' CPU: ${phase.codec.otherS} s during the codec rounds (${phase.codec.wallS} s), ${phase.roundTrip.otherS} s during the round trips (${phase.roundTrip.wallS} s)`);
  if (quick && out === null) return;
  const params = { ...config, corpus: report.corpus };
  const extra = {
    codecMsgsPerS: report.codec,
    roundTrip: report.roundTrip,
    method: {
      timing: 'own timed loops on the main thread (bench/lib/fix-rounds.ts): warm-up and calibration per case, then rounds interleaving every case; median, min, max of per-round msgs/s',
      oursParse: 'FixParser.parse per frame over one buffer of back-to-back messages: BeginString, BodyLength, CheckSum, field index, MsgType (what FixSession does per frame)',
      oursValidate: 'the same plus FixValidator.validate (FIX 4.4 dictionary)',
      oursEncode: 'FixEncoder begin/add*/finish from field values prepared at start-up',
      jspurefix: `jspurefix ${JSPUREFIX_VERSION}, dictionary ${JSPUREFIX_DICTIONARY}: AsciiParser.parseBuffer over the same buffer, MsgView per message + view.checksum() (+ invalid/undefinedForMsg/missing for validate); encoder.reset + AsciiMsgTransmitter.encodeMessage + encoder.trim from objects (what its transmitter stream does per message)`,
      roundTrip: 'FixSession initiator (fix/session.ts over fix/tcp.ts) on the main thread, open loop paced by a pacer thread (bench/lib/open-loop-pacer.ts); peer sim/venue.ts in its own process answers 35=8 150=0 (then 150=4) per IOC 35=D; latency from intended send time to the 150=0 ack, HDR; baseline: the same schedule against a TCP echo process',
    },
    checksum: report.checksum,
    wallS: report.wallS,
    conditions,
    conditionsByPhase: report.conditionsByPhase,
  };
  const path = writeResults('fix', params, report.figures, extra, out ?? undefined);
  console.log(`wrote ${path}`);
}

if (isMainModule(import.meta.url)) {
  main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
