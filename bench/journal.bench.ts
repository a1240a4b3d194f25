/**
 * bench:journal: the journal's per-frame CPU on one core, the writer's and the reader's, beside
 * the bytewise code they replaced, in the same run.
 *
 *   frames:   the engine's records as the persistence stage journals them, at their sizes
 *             (NEW_ORDER, ROUTE_AUDIT with 3 venues, CHILD_ORDER, CHILD_EVENT, EXEC_REPORT,
 *             POSITION ...), laid end to end in a SharedArrayBuffer as a ring holds them;
 *   append:   ours:     JournalWriter.append given the source's DataView, as the persistence
 *                       stage gives it its ring's (one pass: the body copied and its CRC-32
 *                       taken eight bytes a step, slicing-by-8)
 *             baseline: the same frame built as append did before: a byte loop to copy, then a
 *                       bytewise table CRC-32 over typeId..body (BytewiseFrames below)
 *             Both fill a 1 MiB batch and start again when it is full; nothing is written to
 *             disk (the write and fdatasync are bench:disk's and bench:persist's subject).
 *   check:    ours:     checkFrame, as the journal reader and recovery check every frame
 *             baseline: the same check with the bytewise CRC-32
 *
 * Figures: ns per frame, the median of timed rounds interleaving both cases
 * (bench/lib/fix-rounds.ts), with the ratio. Both appends give the same bytes: checked on the
 * whole corpus before timing (and persistence/journal.test.ts holds the frame layout to zlib's CRC).
 *
 * Run: `npm run bench:journal` (writes bench/results/journal.json); --quick (writes only with
 * --out), --out DIR, --rounds N, --round-ms N. runJournalBench is exported for the smoke test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHILD_EVENT_LENGTH, CHILD_ORDER_LENGTH, EXEC_REPORT_LENGTH, NEW_ORDER_LENGTH, POSITION_LENGTH, ROUTE_AUDIT_HEADER_LENGTH,
  ROUTE_AUDIT_VENUE_LENGTH, ROUTE_DONE_LENGTH, ROUTE_REQUEST_LENGTH,
} from '../codecs/records.ts';
import { Mulberry32 } from '../engine/prng.ts';
import { FRAME_HEADER_LENGTH, JournalWriter, checkFrame } from '../persistence/journal.ts';
import { runRounds, type CaseResult, type ThroughputCase } from './lib/fix-rounds.ts';
import { roundsBenchMain } from './lib/rounds-main.ts';
import { figure, type Figure } from './lib/results.ts';
import { printTable } from './lib/table.ts';

export interface JournalBenchConfig {
  /** Frames in the corpus. */
  frames: number;
  seed: number;
  rounds: number;
  roundMs: number;
  warmupMs: number;
}

export const FULL_CONFIG: JournalBenchConfig = { frames: 8192, seed: 7, rounds: 11, roundMs: 150, warmupMs: 300 };
export const QUICK_CONFIG: JournalBenchConfig = { frames: 256, seed: 7, rounds: 2, roundMs: 5, warmupMs: 5 };

/** One order's records in the journal (an IOC far from the market, as bench:ws sends), in order. */
const ORDER_RECORDS = [
  NEW_ORDER_LENGTH, ROUTE_REQUEST_LENGTH, EXEC_REPORT_LENGTH, ROUTE_AUDIT_HEADER_LENGTH + 3 * ROUTE_AUDIT_VENUE_LENGTH,
  CHILD_ORDER_LENGTH, CHILD_EVENT_LENGTH, CHILD_EVENT_LENGTH, ROUTE_DONE_LENGTH, EXEC_REPORT_LENGTH, POSITION_LENGTH,
];
const BATCH_BYTES = 1 << 20;

const align8 = (n: number): number => (n + 7) & ~7;

/** The bytewise CRC-32 table the journal used before slicing-by-8. */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}
function crc32Bytewise(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The baseline: frames built into a batch as JournalWriter.append did before (byte loop, then bytewise CRC). */
class BytewiseFrames {
  readonly batch: Uint8Array;
  private readonly view: DataView;
  used = 0;
  sequence = 1;

  constructor(batchBytes: number) {
    this.batch = new Uint8Array(batchBytes);
    this.view = new DataView(this.batch.buffer);
  }

  append(typeId: number, src: Uint8Array, offset: number, length: number): void {
    if (this.used + FRAME_HEADER_LENGTH + align8(length) > this.batch.length) this.used = 0;
    const at = this.used;
    const v = this.view;
    v.setUint32(at, length, true);
    v.setInt32(at + 8, typeId, true);
    v.setUint32(at + 12, this.sequence >>> 0, true);
    const body = at + FRAME_HEADER_LENGTH;
    for (let i = 0; i < length; i++) this.batch[body + i] = src[offset + i];
    const end = body + align8(length);
    for (let i = body + length; i < end; i++) this.batch[i] = 0;
    v.setUint32(at + 4, crc32Bytewise(this.batch, at + 8, body + length), true);
    this.used = end;
    this.sequence++;
  }
}

/** checkFrame with the bytewise CRC (the reader's check before). */
function checkFrameBytewise(view: DataView, bytes: Uint8Array, at: number, sequence: number): number {
  const length = view.getUint32(at, true);
  const body = at + FRAME_HEADER_LENGTH;
  if (crc32Bytewise(bytes, at + 8, body + length) !== view.getUint32(at + 4, true)) return -4;
  if (view.getUint32(at + 12, true) !== sequence >>> 0) return -5;
  return FRAME_HEADER_LENGTH + align8(length);
}

interface Corpus {
  bytes: Uint8Array;
  /** Over bytes, as a ring's DataView is over its bytes (the persistence stage passes it to append). */
  view: DataView;
  offsets: Int32Array;
  lengths: Int32Array;
  types: Int32Array;
  meanBody: number;
}

/** Seeded record bodies at the engine's record sizes, 8-aligned end to end in shared memory, as a ring holds them. */
function buildCorpus(frames: number, seed: number): Corpus {
  const rng = new Mulberry32(seed);
  const offsets = new Int32Array(frames);
  const lengths = new Int32Array(frames);
  const types = new Int32Array(frames);
  let size = 0;
  for (let i = 0; i < frames; i++) {
    lengths[i] = ORDER_RECORDS[i % ORDER_RECORDS.length];
    types[i] = 1 + (i % ORDER_RECORDS.length);
    offsets[i] = size + 8; // after a ring record's 8-byte header
    size += 8 + align8(lengths[i]);
  }
  const bytes = new Uint8Array(new SharedArrayBuffer(size));
  for (let i = 0; i < size; i++) bytes[i] = rng.nextU32() & 0xff;
  let total = 0;
  for (let i = 0; i < frames; i++) total += lengths[i];
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offsets, lengths, types, meanBody: Math.round(total / frames) };
}

export interface JournalBenchReport {
  config: JournalBenchConfig;
  meanBodyBytes: number;
  append: Record<'ours' | 'baseline', CaseResult>;
  check: Record<'ours' | 'baseline', CaseResult>;
  checksum: number;
  figures: Record<string, Figure>;
}

const nsPerFrame = (msgsPerS: number): number => Math.round((1e9 / msgsPerS) * 10) / 10;

export function runJournalBench(config: JournalBenchConfig, log: (line: string) => void = () => {}): JournalBenchReport {
  const corpus = buildCorpus(config.frames, config.seed);
  const dir = mkdtempSync(join(tmpdir(), 'bench-journal-'));
  try {
    // Both batches hold the whole corpus: append never flushes, so no disk I/O is timed. A pass
    // starts the writer's batch again by setting its fill mark back to 0 (a private field, set
    // from here only: nothing else of the writer's state changes within a batch).
    const batchBytes = Math.max(BATCH_BYTES, corpus.offsets.length * (FRAME_HEADER_LENGTH + 520));
    const writer = new JournalWriter(dir, 'none', 10, batchBytes, { segmentBytes: 1 << 30 });
    const batch = (writer as unknown as { batch: Uint8Array }).batch;
    const bytewise = new BytewiseFrames(batchBytes);
    const n = corpus.offsets.length;
    // Same bytes, or the comparison means nothing: the whole corpus through both, compared frame by frame.
    const start = writer.sequence;
    bytewise.sequence = start;
    for (let i = 0; i < n; i++) {
      writer.append(corpus.types[i], corpus.bytes, corpus.offsets[i], corpus.lengths[i], corpus.view);
      bytewise.append(corpus.types[i], corpus.bytes, corpus.offsets[i], corpus.lengths[i]);
    }
    const written = (writer as unknown as { used: number }).used;
    if (written !== bytewise.used || Buffer.compare(batch.subarray(0, written), bytewise.batch.subarray(0, written)) !== 0) {
      throw new Error('journal bench: the two appends built different frames');
    }
    // The frames just built, for the check cases (a copy: the append cases overwrite the batches).
    const framed = batch.slice(0, written);
    const framedView = new DataView(framed.buffer);
    const reset = (): void => {
      (writer as unknown as { used: number }).used = 0;
    };
    const appendOurs = (): number => {
      reset();
      for (let i = 0; i < n; i++) writer.append(corpus.types[i], corpus.bytes, corpus.offsets[i], corpus.lengths[i], corpus.view);
      return batch[written - 1] + batch[4] + batch[written - 8];
    };
    const appendBaseline = (): number => {
      bytewise.used = 0;
      for (let i = 0; i < n; i++) bytewise.append(corpus.types[i], corpus.bytes, corpus.offsets[i], corpus.lengths[i]);
      return bytewise.batch[bytewise.used - 1] + bytewise.used;
    };
    const checkWith = (ours: boolean) => (): number => {
      let at = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const len = ours ? checkFrame(framedView, at, written, start + i) : checkFrameBytewise(framedView, framed, at, start + i);
        if (len < 0) throw new Error(`journal bench: frame ${i} does not check (${len})`);
        at += len;
        sum += len;
      }
      return sum;
    };
    const appendCases: ThroughputCase[] = [
      { id: 'append ours', messagesPerPass: n, pass: appendOurs },
      { id: 'append baseline', messagesPerPass: n, pass: appendBaseline },
    ];
    const checkCases: ThroughputCase[] = [
      { id: 'check ours', messagesPerPass: n, pass: checkWith(true) },
      { id: 'check baseline', messagesPerPass: n, pass: checkWith(false) },
    ];
    const a = runRounds(appendCases, config, (id) => log(`timing ${id}`));
    const c = runRounds(checkCases, config, (id) => log(`timing ${id}`));
    writer.close();
    const append = { ours: a.results.get('append ours')!, baseline: a.results.get('append baseline')! };
    const check = { ours: c.results.get('check ours')!, baseline: c.results.get('check baseline')! };
    const ns = (r: CaseResult) => ({ value: nsPerFrame(r.msgsPerS.median), min: nsPerFrame(r.msgsPerS.max), max: nsPerFrame(r.msgsPerS.min) });
    const fig = (ours: CaseResult, base: CaseResult, baselineOf: string): Figure => {
      const o = ns(ours);
      const b = ns(base);
      return figure(o.value, 'ns', '(report)', b.value, baselineOf, { min: o.min, max: o.max, baselineMin: b.min, baselineMax: b.max, ratio: Math.round((b.value / o.value) * 100) / 100 });
    };
    const figures: Record<string, Figure> = {
      journal_append_ns_per_frame: fig(append.ours, append.baseline, 'the same frames built as append did before (byte-loop copy, then bytewise table CRC-32), same run'),
      journal_check_ns_per_frame: fig(check.ours, check.baseline, 'the same frames checked with the bytewise table CRC-32, same run'),
    };
    return { config, meanBodyBytes: corpus.meanBody, append, check, checksum: a.checksum + c.checksum, figures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printReport(r: JournalBenchReport): void {
  const row = (label: string, res: CaseResult) => [label, nsPerFrame(res.msgsPerS.median), `${nsPerFrame(res.msgsPerS.max)} - ${nsPerFrame(res.msgsPerS.min)}`];
  printTable(
    `Journal frames on one core (${r.meanBodyBytes} B mean body; median of ${r.config.rounds} rounds)`,
    ['case', 'ns/frame', 'min - max'],
    [
      row('append: one pass, slicing-by-8 (ours)', r.append.ours), row('append: byte loop + bytewise CRC (before)', r.append.baseline),
      row('check: slicing-by-8 (ours)', r.check.ours), row('check: bytewise CRC (before)', r.check.baseline),
    ],
  );
  for (const [id, f] of Object.entries(r.figures)) console.log(`${id} = ${f.value} ns (baseline ${f.baseline} ns: ${(f as Figure & { ratio: number }).ratio}x)`);
}

roundsBenchMain(import.meta.url, {
  name: 'journal',
  full: FULL_CONFIG,
  quick: QUICK_CONFIG,
  run: runJournalBench,
  print: printReport,
  extra: (r) => ({
    meanBodyBytes: r.meanBodyBytes,
    append: r.append,
    check: r.check,
    method: {
      timing: 'own timed loops on the main thread (bench/lib/fix-rounds.ts): warm-up and calibration per case, then rounds interleaving both; ns/frame from the median, min and max of per-round frames/s',
      corpus: 'seeded bytes at the engine\'s record sizes, one IOC order\'s ten records repeated (ROUTE_AUDIT with 3 venues), 8-aligned in a SharedArrayBuffer; both appends checked to build identical frames first',
      disk: 'none: the batch holds the whole corpus, so append never writes',
    },
    checksum: r.checksum,
  }),
});
