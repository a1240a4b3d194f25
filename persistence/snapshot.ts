/**
 * Recovery snapshots: a stage's recovered state at a journal boundary, so the next start replays
 * only the journal after it (persistence/journal.ts, workers/{risk,sor,fix}/recovery.ts).
 *
 * When. A boot's journal writer opens a new segment before the stages recover, so the end of the
 * replay at start-up is the first sequence of that segment: a boundary nothing of an earlier boot
 * lies after and nothing of this boot before. Each stage, once its replay reached it and before
 * it settles what the crash left half done (its resume pass, the children only an audit names),
 * writes what its replay built: `<journal.dir>/snapshots/<stage>-<boundary>.snap`. A later start
 * loads the newest snapshot that holds and replays from its boundary; that is the same as
 * replaying the whole journal, because the snapshot is the replay's own state at that point
 * (each stage's tests check it bit for bit against a full replay).
 *
 * A snapshot holds when its checksum holds, it names the stage, its fingerprint (the
 * configuration its tables' shapes and ids depend on: capacities, symbols, accounts, venues)
 * equals this start's, and the journal still has a segment starting at its boundary, written by
 * the boot that wrote it (the segment header's epoch) or following the same segment as when it
 * was saved (journalHolds). Otherwise the next older one is tried, and
 * without one the whole journal is replayed, as before snapshots. Each stage keeps its newest
 * KEEP_SNAPSHOTS files.
 *
 * Format (little-endian): "OMSSNAP1", u32 meta length, meta (JSON: SnapshotMeta: stage, rules,
 * boundary, segmentEpochMs, priorSegment, fingerprint, writtenAtMs), the payload, then a CRC-32
 * of everything before it.
 * The payload is a sequence of tagged sections a stage writes and reads back in the same order
 * (SnapshotWriter, SnapshotReader): numbers, typed arrays (element kind and length checked) and
 * byte strings. Written to a temporary file, fsynced, renamed and the directory fsynced.
 *
 * While running, the snapshot thread saves more, at later segment starts, from replays it keeps
 * going beside the engine (persistence/snapshot-follower.ts): the same files, loaded the same way.
 *
 * Start-up and the snapshot thread only: allocates freely (not the hot path).
 */
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { journalHeaders, segmentFileName, syncPath, writeFileDurably, type SegmentHeader, type WritePace } from './journal.ts';
import { replayJournal, type FrameHandler, type ReplayResult } from './journal-reader.ts';

export const SNAPSHOT_MAGIC = 'OMSSNAP1';
/**
 * The replay rules' version: bump it with any change to what a stage's replay builds from the
 * same records (a rule, an enum, a hash, a slot function) that leaves the layout as it was, so
 * that snapshots of the old rules are passed over (a changed layout is caught by itself).
 */
export const SNAPSHOT_RULES_VERSION = 1;
export const KEEP_SNAPSHOTS = 2;
export const SNAPSHOT_DIR = 'snapshots';

export type SnapshotArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array
  | BigInt64Array | BigUint64Array;

const KINDS = ['Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];
const WIDTHS = [1, 1, 2, 2, 4, 4, 4, 8, 8, 8];
const SECTION_NUMBER = 1;
const SECTION_ARRAY = 2;
const SECTION_BYTES = 3;
const SECTION_LIST = 4;

/** Why a snapshot could not be read back into this start's tables: it is not used. */
export class SnapshotMismatch extends Error {}

function kindOf(a: SnapshotArray): number {
  const k = KINDS.indexOf(a.constructor.name);
  if (k < 0) throw new Error(`Condition failed: a typed array, not ${a.constructor.name}`);
  return k;
}

/**
 * Builds a payload of tagged sections; or, made by SnapshotWriter.measuring(), only measures
 * one: its size and layout (as SnapshotReader.layout gives it), nothing copied. A table-sized
 * snapshot is measured first and then written into a buffer of exactly its size (written()),
 * so a save holds one copy of the tables, not the three a growing buffer and its copies held.
 */
export class SnapshotWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;
  /** The layout so far when measuring, else null. */
  private sections: string[] | null = null;

  /** `size`: the payload's size, when known (a measuring pass's), so the buffer never grows. */
  constructor(size: number = 1 << 16) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** A writer that measures: size and layout() only. */
  static measuring(): SnapshotWriter {
    const w = new SnapshotWriter(0);
    w.sections = [];
    return w;
  }

  /** Bytes written (or measured) so far. */
  get size(): number {
    return this.at;
  }

  /** A measuring writer's layout: each section's kind and tag, a typed array's element kind and length. */
  layout(): string[] {
    if (this.sections === null) throw new Error('Condition failed: layout() of a measuring writer');
    return [...this.sections];
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 1 << 16);
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** The section's head; false when measuring (`entry` kept, `bodyLength` counted), true: write the body. */
  private head(tag: string, section: number, entry: string, bodyLength: number): boolean {
    const t = Buffer.from(tag, 'utf8');
    if (t.length < 1 || t.length > 255) throw new Error('Condition failed: a tag of 1 to 255 bytes');
    if (this.sections !== null) {
      this.sections.push(entry);
      this.at += 2 + t.length + bodyLength;
      return false;
    }
    this.room(2 + t.length + bodyLength);
    this.buf[this.at++] = section;
    this.buf[this.at++] = t.length;
    this.buf.set(t, this.at);
    this.at += t.length;
    return true;
  }

  number(tag: string, n: number): this {
    if (typeof n !== 'number') throw new Error(`Condition failed: ${tag} is a number`);
    if (!this.head(tag, SECTION_NUMBER, `n:${tag}`, 8)) return this;
    this.view.setFloat64(this.at, n, true);
    this.at += 8;
    return this;
  }

  array(tag: string, a: SnapshotArray): this {
    const kind = kindOf(a);
    if (!this.head(tag, SECTION_ARRAY, `a:${tag}:${KINDS[kind]}:${a.length}`, 9 + a.byteLength)) return this;
    this.buf[this.at++] = kind;
    this.view.setFloat64(this.at, a.length, true);
    this.at += 8;
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.at);
    this.at += a.byteLength;
    return this;
  }

  /**
   * The number fields `keys` of `o`, each its own section tagged `${prefix}.${key}`; read back by
   * SnapshotReader.numbersInto with the same list, so one list names them for both directions.
   */
  numbers(prefix: string, o: object, keys: readonly string[]): this {
    const fields = o as Record<string, unknown>;
    for (const k of keys) this.number(`${prefix}.${k}`, fields[k] as number);
    return this;
  }

  /** A list of numbers of any length (read back by SnapshotReader.list). */
  list(tag: string, a: Float64Array): this {
    if (!this.head(tag, SECTION_LIST, `l:${tag}`, 8 + a.byteLength)) return this;
    this.view.setFloat64(this.at, a.length, true);
    this.at += 8;
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.at);
    this.at += a.byteLength;
    return this;
  }

  /** A byte string, or null. */
  bytes(tag: string, b: Uint8Array | null): this {
    if (!this.head(tag, SECTION_BYTES, `b:${tag}`, 8 + (b === null ? 0 : b.length))) return this;
    this.view.setFloat64(this.at, b === null ? -1 : b.length, true);
    this.at += 8;
    if (b !== null) {
      this.buf.set(b, this.at);
      this.at += b.length;
    }
    return this;
  }

  /** The payload (a view of the writer's buffer: the writer is done with). */
  finish(): Uint8Array {
    if (this.sections !== null) throw new Error('Condition failed: finish() of a writer that writes, not of a measuring one');
    return this.buf.subarray(0, this.at);
  }
}

/**
 * What `write` writes, measured first and then written into a buffer of that size, with its
 * layout. Throws when the two passes differ (a writer must write the same sections each time).
 */
export function written(write: (w: SnapshotWriter) => void): { payload: Uint8Array; layout: string[] } {
  const m = SnapshotWriter.measuring();
  write(m);
  const w = new SnapshotWriter(m.size);
  write(w);
  const payload = w.finish();
  if (w.size !== m.size || !sameLayout(new SnapshotReader(payload).layout(), m.layout())) {
    throw new Error(`Condition failed: a snapshot's two passes wrote the same sections (${m.size} and ${w.size} bytes)`);
  }
  return { payload, layout: m.layout() };
}

/** Reads a payload back, section by section, in the order it was written. */
export class SnapshotReader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private at = 0;

  constructor(payload: Uint8Array) {
    this.buf = payload;
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new SnapshotMismatch('the snapshot ends early');
  }

  private head(tag: string, section: number): void {
    this.need(2);
    const s = this.buf[this.at];
    const len = this.buf[this.at + 1];
    this.need(2 + len);
    const got = Buffer.from(this.buf.subarray(this.at + 2, this.at + 2 + len)).toString('utf8');
    if (s !== section || got !== tag) throw new SnapshotMismatch(`expected section ${tag}, found ${got}`);
    this.at += 2 + len;
  }

  number(tag: string): number {
    this.head(tag, SECTION_NUMBER);
    this.need(8);
    const n = this.view.getFloat64(this.at, true);
    this.at += 8;
    return n;
  }

  /** Copies the section into `into`, which must have the same element kind and length. */
  arrayInto(tag: string, into: SnapshotArray): void {
    this.head(tag, SECTION_ARRAY);
    this.need(9);
    const kind = this.buf[this.at];
    const length = this.view.getFloat64(this.at + 1, true);
    if (kind !== kindOf(into) || length !== into.length) {
      throw new SnapshotMismatch(`${tag}: ${KINDS[kind] ?? kind}[${length}] does not fit ${into.constructor.name}[${into.length}]`);
    }
    this.at += 9;
    this.need(into.byteLength);
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(this.buf.subarray(this.at, this.at + into.byteLength));
    this.at += into.byteLength;
  }

  /** Sections written by SnapshotWriter.numbers, into the same fields of `o`. */
  numbersInto(prefix: string, o: object, keys: readonly string[]): void {
    const fields = o as Record<string, number>;
    for (const k of keys) fields[k] = this.number(`${prefix}.${k}`);
  }

  /** A list written by SnapshotWriter.list. */
  list(tag: string): Float64Array {
    this.head(tag, SECTION_LIST);
    this.need(8);
    const length = this.view.getFloat64(this.at, true);
    if (!(Number.isSafeInteger(length) && length >= 0)) throw new SnapshotMismatch(`${tag}: bad length`);
    this.at += 8;
    this.need(length * 8);
    const out = new Float64Array(length);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.at, this.at + length * 8));
    this.at += length * 8;
    return out;
  }

  bytes(tag: string): Uint8Array | null {
    this.head(tag, SECTION_BYTES);
    this.need(8);
    const length = this.view.getFloat64(this.at, true);
    this.at += 8;
    if (length === -1) return null;
    if (!(Number.isSafeInteger(length) && length >= 0)) throw new SnapshotMismatch(`${tag}: bad length`);
    this.need(length);
    const out = this.buf.slice(this.at, this.at + length);
    this.at += length;
    return out;
  }

  /**
   * The payload's layout from here on: each section's kind and tag, and a typed array's element
   * kind and length (a list's or a byte string's length and a number's value are not layout).
   * Two payloads with the same layout read back into the same tables without a mismatch.
   */
  layout(): string[] {
    const out: string[] = [];
    let at = this.at;
    const fail = (): never => {
      throw new SnapshotMismatch('the snapshot ends early');
    };
    while (at < this.buf.length) {
      if (at + 2 > this.buf.length) fail();
      const section = this.buf[at];
      const len = this.buf[at + 1];
      if (at + 2 + len > this.buf.length) fail();
      const tag = Buffer.from(this.buf.subarray(at + 2, at + 2 + len)).toString('utf8');
      at += 2 + len;
      if (section === SECTION_NUMBER) {
        out.push(`n:${tag}`);
        at += 8;
      } else if (section === SECTION_ARRAY) {
        if (at + 9 > this.buf.length) fail();
        const kind = this.buf[at];
        const length = this.view.getFloat64(at + 1, true);
        const width = kind < KINDS.length ? WIDTHS[kind] : 0;
        if (width === 0 || !(Number.isSafeInteger(length) && length >= 0)) throw new SnapshotMismatch(`${tag}: bad array`);
        out.push(`a:${tag}:${KINDS[kind]}:${length}`);
        at += 9 + length * width;
      } else if (section === SECTION_LIST || section === SECTION_BYTES) {
        if (at + 8 > this.buf.length) fail();
        const length = this.view.getFloat64(at, true);
        const width = section === SECTION_LIST ? 8 : 1;
        out.push(`${section === SECTION_LIST ? 'l' : 'b'}:${tag}`);
        at += 8 + (length > 0 ? length * width : 0);
      } else {
        throw new SnapshotMismatch(`${tag}: unknown section ${section}`);
      }
      if (at > this.buf.length) fail();
    }
    return out;
  }

  /** Every section was read. */
  end(): void {
    if (this.at !== this.buf.length) throw new SnapshotMismatch(`${this.buf.length - this.at} bytes left unread`);
  }
}

export interface SnapshotMeta {
  stage: string;
  /** SNAPSHOT_RULES_VERSION of the code that wrote it. */
  rules: number;
  /** The first journal sequence after the state it holds (a segment's first). */
  boundary: number;
  /** The epoch in the header of the segment starting at the boundary (the boot that wrote it). */
  segmentEpochMs: number;
  /**
   * The segment holding the last frames before the boundary (its index and its boot's epoch),
   * null at the journal's first segment; absent from files of an earlier version, which hold
   * only by segmentEpochMs (journalHolds).
   */
  priorSegment?: { index: number; engineEpochMs: number } | null;
  fingerprint: string;
  writtenAtMs: number;
}

/** What a stage's recovery did with snapshots (part of its result, which the supervisor logs). */
export interface SnapshotOutcome {
  /** The snapshot the replay started from (its path), or null: the whole journal was replayed. */
  loaded: string | null;
  /** The first journal sequence replayed: the loaded snapshot's boundary, 1 without one. */
  boundary: number;
  /** The snapshot written at this boot's boundary, or null (no store, below minFrames, no segment start, the replay stopped early before it, or the save failed). */
  saved: string | null;
  /** Snapshots passed over, each with its reason. */
  skipped: string[];
  /** Why the save failed (e.g. a full disk), or null: recovery goes on without it. */
  error: string | null;
}

/** The outcome of a recovery that used no snapshot. */
export function noSnapshot(): SnapshotOutcome {
  return { loaded: null, boundary: 1, saved: null, skipped: [], error: null };
}

/** A stage's replay state as a snapshot holds it: snapshot() writes what restore() reads back. */
export interface SnapshotState {
  snapshot(w: SnapshotWriter): void;
  /** Throws SnapshotMismatch when the snapshot cannot stand for this start (before or while changing anything). */
  restore(r: SnapshotReader): void;
}

export interface LoadedSnapshot {
  meta: SnapshotMeta;
  path: string;
  reader: SnapshotReader;
}

/** The first sequence of the journal segment a boot of this epoch opened (its header's epoch), or null. */
export function bootBoundary(journalDir: string, bootEpochMs: number): number | null {
  for (const h of journalHeaders(journalDir)) if (h.engineEpochMs === bootEpochMs) return h.firstSequence;
  return null;
}

/** The journal segment whose first sequence is `boundary` (or null), and the one before it: the last that starts below it (or null). */
export function segmentsAround(journalDir: string, boundary: number): { at: SegmentHeader | null; prior: SegmentHeader | null } {
  let at: SegmentHeader | null = null;
  let prior: SegmentHeader | null = null;
  for (const h of journalHeaders(journalDir)) {
    if (h.firstSequence < boundary) prior = h;
    else if (h.firstSequence === boundary) at = h;
  }
  return { at, prior };
}

/**
 * Whether the journal in `journalDir` is still the one a snapshot with `meta` was saved over: a
 * segment starts at its boundary, and either that segment is the one its boot wrote (its epoch),
 * or the segment before the boundary is the one it was (index and epoch): the frames before the
 * boundary, all a snapshot stands for, are then the same. The second holds when a boot that
 * journaled nothing left its segment to the next boot, which rewrote its header with its own
 * epoch (JournalWriter reuses an empty last segment): its snapshot still holds.
 */
function journalHolds(journalDir: string, meta: SnapshotMeta): boolean {
  const { at, prior } = segmentsAround(journalDir, meta.boundary);
  if (at === null) return false;
  if (at.engineEpochMs === meta.segmentEpochMs) return true;
  const p = meta.priorSegment;
  if (p === undefined) return false; // written before the field: its epoch only
  if (p === null) return prior === null; // the journal's first segment: nothing before the boundary
  return prior !== null && prior.index === p.index && prior.engineEpochMs === p.engineEpochMs;
}

/** What a snapshot's tables depend on in the configuration: capacities and the id of every name. */
export function snapshotFingerprint(config: {
  orderCapacity: number;
  childCapacity: number;
  symbols: readonly { name: string }[];
  accounts: readonly { id: number }[];
  venues: readonly { id: number; name: string }[];
}): string {
  return JSON.stringify({
    orderCapacity: config.orderCapacity,
    childCapacity: config.childCapacity,
    symbols: config.symbols.map((s) => s.name),
    accounts: config.accounts.map((a) => a.id),
    venues: config.venues.map((v) => [v.id, v.name]),
  });
}

/** The store a stage recovers with: null when `journal.snapshots` is off (the whole journal is replayed). */
export function snapshotStoreFor(
  config: Parameters<typeof snapshotFingerprint>[0] & { journal: { dir: string; snapshots: boolean; snapshotMinEvents: number } },
  bootEpochMs: number,
): SnapshotStore | null {
  return config.journal.snapshots ? new SnapshotStore(config.journal.dir, snapshotFingerprint(config), config.journal.snapshotMinEvents, bootEpochMs) : null;
}

function fileName(stage: string, boundary: number): string {
  return `${stage}-${String(boundary).padStart(16, '0')}.snap`;
}

/**
 * A snapshot file as its three parts, the payload not copied: the head (magic, meta length,
 * meta), the payload, and the tail (CRC-32 of head and payload).
 */
export function snapshotParts(meta: SnapshotMeta, payload: Uint8Array): Uint8Array[] {
  const m = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = new Uint8Array(8 + 4 + m.length);
  head.set(Buffer.from(SNAPSHOT_MAGIC, 'latin1'), 0);
  new DataView(head.buffer).setUint32(8, m.length, true);
  head.set(m, 12);
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc32(payload, crc32(head)), true);
  return [head, payload, tail];
}

/** Encodes a snapshot file, whole. */
export function encodeSnapshot(meta: SnapshotMeta, payload: Uint8Array): Uint8Array {
  const parts = snapshotParts(meta, payload);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes a snapshot file; throws SnapshotMismatch with the reason when it does not hold. */
export function decodeSnapshot(file: Uint8Array): { meta: SnapshotMeta; payload: Uint8Array } {
  if (file.length < 16 || Buffer.from(file.subarray(0, 8)).toString('latin1') !== SNAPSHOT_MAGIC) throw new SnapshotMismatch('not a snapshot file');
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const end = file.length - 4;
  if (crc32(file.subarray(0, end)) !== v.getUint32(end, true)) throw new SnapshotMismatch('checksum does not hold');
  const metaLength = v.getUint32(8, true);
  if (12 + metaLength > end) throw new SnapshotMismatch('meta overruns the file');
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(Buffer.from(file.subarray(12, 12 + metaLength)).toString('utf8')) as SnapshotMeta;
  } catch {
    throw new SnapshotMismatch('meta is not JSON');
  }
  if (
    !(typeof meta === 'object' && meta !== null && typeof meta.stage === 'string' && typeof meta.fingerprint === 'string' &&
      Number.isSafeInteger(meta.boundary) && meta.boundary >= 1 && typeof meta.segmentEpochMs === 'number' && typeof meta.writtenAtMs === 'number' &&
      (meta.priorSegment == null || (typeof meta.priorSegment === 'object' && typeof meta.priorSegment.index === 'number' && typeof meta.priorSegment.engineEpochMs === 'number')))
  ) {
    throw new SnapshotMismatch('meta lacks a field');
  }
  return { meta, payload: file.subarray(12 + metaLength, end) };
}

export function sameLayout(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * A stage's start-up replay from `fromSequence`: with a store, SnapshotStore.replayAndSave (the
 * snapshot of this boot's boundary saved on the way); without one (journal.snapshots off), the
 * plain replay.
 */
export function replayFrom(
  snapshots: SnapshotStore | null,
  stage: string,
  handler: FrameHandler,
  fromSequence: number,
  journalDir: string,
  write: (w: SnapshotWriter) => void,
): ReplayResult & { saved: string | null; error: string | null } {
  if (snapshots === null) return { ...replayJournal(journalDir, handler, fromSequence), saved: null, error: null };
  return snapshots.replayAndSave(stage, handler, fromSequence, write);
}

/**
 * A stage's start-up replay with its snapshots, as the SOR and fix recover (risk, whose tables
 * are sized by a snapshot's head, loads its own: workers/risk/recovery.ts): loadInto `state`
 * (a FrameHandler over a fresh stage), replayFrom the boundary loaded, saving `state`'s snapshot
 * on the way; the outcome says what was loaded, saved and passed over. Null store: the whole
 * journal, no snapshot.
 */
export function replayWithSnapshots(
  snapshots: SnapshotStore | null,
  stage: string,
  state: SnapshotState & FrameHandler,
  journalDir: string,
): { replay: ReplayResult; snapshot: SnapshotOutcome } {
  const snapshot = snapshots === null ? noSnapshot() : snapshots.loadInto(stage, state);
  const replay = replayFrom(snapshots, stage, state, snapshot.boundary, journalDir, (w) => state.snapshot(w));
  snapshot.saved = replay.saved;
  snapshot.error = replay.error;
  return { replay, snapshot };
}

/** A stage's snapshots in `<journalDir>/snapshots/`. */
export class SnapshotStore {
  readonly journalDir: string;
  readonly dir: string;
  readonly fingerprint: string;
  /** A start saves a snapshot only after replaying at least this many frames (journal.snapshotMinEvents). */
  readonly minFrames: number;
  /** Why snapshots were passed over by the last load (for the start-up log). */
  readonly skipped: string[] = [];
  /** Snapshots that held at load but could not be read back (passOver), with the reason: passed over by every later load of this store. */
  private readonly passedOver = new Map<string, string>();
  /**
   * How save() writes its file: null (a start's saves, before trading), at once; the snapshot
   * thread's saves, while orders are journaled, paced (journal.snapshotWriteMiBPerS).
   */
  writePace: WritePace | null = null;
  /** Chunks the saves of this store fdatasynced on their own under writePace, in all (0: none paced). */
  pacedChunks = 0;
  /**
   * holding()'s file checks, per stage by path: the file's size and mtime then, and its meta
   * (null: it did not hold). Only the files of the stage's last listing are kept, so the cache
   * does not grow as saves come and older files go.
   */
  private readonly fileChecks = new Map<string, Map<string, { stamp: string; meta: SnapshotMeta | null }>>();

  /** Files whose check holding() keeps for `stage` (tests: the cache stays bounded). */
  checkedFiles(stage: string): number {
    return this.fileChecks.get(stage)?.size ?? 0;
  }

  /**
   * The engine epoch of this boot, whose journal segment's first sequence is where its stages
   * save (replayAndSave), or null: at the replay's end.
   */
  readonly bootEpochMs: number | null;

  constructor(journalDir: string, fingerprint: string, minFrames: number = 0, bootEpochMs: number | null = null) {
    if (!(Number.isSafeInteger(minFrames) && minFrames >= 0)) throw new Error('Condition failed: minFrames is an integer >= 0');
    this.journalDir = journalDir;
    this.dir = join(journalDir, SNAPSHOT_DIR);
    this.fingerprint = fingerprint;
    this.minFrames = minFrames;
    this.bootEpochMs = bootEpochMs;
  }

  /**
   * A stage's start-up replay from `fromSequence` into `handler`, saving its snapshot on the way:
   * at this boot's boundary (bootEpochMs) when the journal has it, just before the first frame of
   * this boot is applied. Stages start one after another and an earlier one may already have
   * journaled this boot's first records (risk's resume pass) when a later one replays: its
   * replay's end is then past the boundary, and only the state at the boundary is a snapshot the
   * next start can continue from. Without this boot's segment (tests), at the replay's end.
   */
  replayAndSave(stage: string, handler: FrameHandler, fromSequence: number, write: (w: SnapshotWriter) => void): ReplayResult & { saved: string | null; error: string | null } {
    const boundary = this.bootEpochMs === null ? null : bootBoundary(this.journalDir, this.bootEpochMs);
    let frames = 0;
    let outcome: { saved: string | null; error: string | null } | null = null;
    const save = (): void => {
      outcome = this.saveAfterReplay(stage, { nextSequence: boundary!, frames, problem: null }, write);
    };
    const replay = replayJournal(this.journalDir, boundary === null ? handler : {
      onFrame(typeId, sequence, epochMs, view, bytes, offset, length) {
        if (outcome === null && sequence >= boundary) save();
        frames++;
        handler.onFrame(typeId, sequence, epochMs, view, bytes, offset, length);
      },
    }, fromSequence);
    // No frame of this boot yet (or no boundary known): the replay's end, if it reached it.
    const result = outcome ?? this.saveAfterReplay(stage, replay, write);
    return { ...replay, ...result };
  }

  /**
   * Marks a snapshot that load() returned as unusable for this start: it could not be read back
   * into the stage (SnapshotMismatch half-way). Later loads pass it over with `reason`, so a
   * stage that starts again from scratch takes the next older snapshot, or the whole journal.
   */
  passOver(path: string, reason: string): void {
    this.passedOver.set(path, reason);
  }

  /**
   * Removes temporary files a save left (`*.snap.tmp`: a thread terminated inside
   * writeFileDurably). Call only while nothing saves in this directory. Returns how many.
   */
  removeTemporaryFiles(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    const stale = names.filter((n) => n.endsWith('.snap.tmp'));
    for (const n of stale) rmSync(join(this.dir, n), { force: true });
    return stale.length;
  }

  /** The stage's snapshot files, newest boundary first. */
  list(stage: string): { boundary: number; path: string }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const re = new RegExp(`^${stage}-(\\d{16})\\.snap$`);
    const out: { boundary: number; path: string }[] = [];
    for (const name of names) {
      const m = re.exec(name);
      if (m !== null) out.push({ boundary: Number(m[1]), path: join(this.dir, name) });
    }
    return out.sort((a, b) => b.boundary - a.boundary);
  }

  /**
   * The newest snapshot of `stage` that holds for this journal and configuration, or null. With
   * `shape` (the stage's snapshot writer over its fresh, empty state), only a snapshot of the same
   * layout (sameLayout) is taken: one written by another version of the code is passed over, so
   * reading it back cannot fail on a table's shape (a check of its contents still can: loadInto,
   * and risk's recoverRisk, pass such a file over and go on).
   */
  load(stage: string, shape?: (w: SnapshotWriter) => void): LoadedSnapshot | null {
    return this.loadFrom(stage, shape === undefined ? null : () => {
      const m = SnapshotWriter.measuring();
      shape(m);
      return m.layout();
    });
  }

  /**
   * load() into a fresh stage's `state`, then restored into it; returns the outcome with the
   * boundary to replay from. Should reading back still throw SnapshotMismatch half-way (a check
   * of the stage's own, or a defect), the state is restored from its own fresh snapshot (the
   * layout template, taken before), the file is passed over (passOver) and the next older one
   * tried, else the whole journal is replayed.
   */
  loadInto(stage: string, state: SnapshotState): SnapshotOutcome {
    const out = noSnapshot();
    let fresh: { payload: Uint8Array; layout: string[] } | null = null;
    const template = (): string[] => {
      fresh ??= written((w) => state.snapshot(w));
      return fresh.layout;
    };
    for (;;) {
      const loaded = this.loadFrom(stage, template);
      if (loaded === null) break;
      try {
        state.restore(loaded.reader);
        loaded.reader.end();
        out.loaded = loaded.path;
        out.boundary = loaded.meta.boundary;
        break;
      } catch (e) {
        if (!(e instanceof SnapshotMismatch)) throw e;
        // Listed by the next load among those passed over, with this reason.
        this.passOver(loaded.path, `could not be read back: ${e.message}`);
        const blank = new SnapshotReader(fresh!.payload);
        state.restore(blank);
        blank.end();
      }
    }
    out.skipped.push(...this.skipped);
    return out;
  }

  /** load(), the layout a snapshot must have given by `template` (called only when the stage has a file). */
  private loadFrom(stage: string, template: (() => string[]) | null): LoadedSnapshot | null {
    this.skipped.length = 0;
    const candidates = this.list(stage);
    if (candidates.length === 0) return null; // nothing to check: no template either (a fresh stage's tables, for some)
    const layout = template === null ? null : template();
    for (const { boundary, path } of candidates) {
      try {
        const loaded = this.check(stage, boundary, path);
        if (layout !== null && !sameLayout(loaded.reader.layout(), layout)) throw new SnapshotMismatch('its layout is not this version\'s');
        return loaded;
      } catch (e) {
        if (!(e instanceof SnapshotMismatch)) throw e;
        this.skipped.push(`${path}: ${e.message}`);
      }
    }
    return null;
  }

  /**
   * The file at `path` as a start would load it, all but its layout checked: readable, its
   * checksum, name, replay rules and fingerprint, and the journal still the one it was saved
   * over (journalHolds). Throws SnapshotMismatch with the reason.
   */
  private check(stage: string, boundary: number, path: string): LoadedSnapshot {
    const loaded = this.checkFile(stage, boundary, path);
    if (!journalHolds(this.journalDir, loaded.meta)) throw new SnapshotMismatch('the journal has no segment of its boot at its boundary, nor the segment it followed');
    return loaded;
  }

  /** check() but the journal: what depends on the file alone. */
  private checkFile(stage: string, boundary: number, path: string): LoadedSnapshot {
    const passedOver = this.passedOver.get(path);
    if (passedOver !== undefined) throw new SnapshotMismatch(passedOver);
    let file: Uint8Array;
    try {
      const b = readFileSync(path);
      file = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // a plain view: slice() copies, as on any Uint8Array
    } catch (e) {
      throw new SnapshotMismatch(`unreadable: ${e instanceof Error ? e.message : String(e)}`);
    }
    const { meta, payload } = decodeSnapshot(file);
    if (meta.stage !== stage || meta.boundary !== boundary) throw new SnapshotMismatch('its name and contents disagree');
    if (meta.rules !== SNAPSHOT_RULES_VERSION) throw new SnapshotMismatch(`written under replay rules ${meta.rules}, these are ${SNAPSHOT_RULES_VERSION}`);
    if (meta.fingerprint !== this.fingerprint) throw new SnapshotMismatch('the configuration its tables depend on changed');
    return { meta, path, reader: new SnapshotReader(payload) };
  }

  /**
   * The boundaries of `stage`'s snapshot files that hold for this journal and configuration
   * (check: all but the layout, which only the stage knows), newest first: where a start could
   * begin its replay. journal.retention keeps the journal from the oldest of them on
   * (persistence/retention.ts). Reads each file whole the first time this store sees it; a file
   * of the same size and modification time since is not read again (its journal still checked).
   */
  holding(stage: string): number[] {
    const out: number[] = [];
    const before = this.fileChecks.get(stage);
    const checks = new Map<string, { stamp: string; meta: SnapshotMeta | null }>();
    this.fileChecks.set(stage, checks);
    for (const { boundary, path } of this.list(stage)) {
      let stamp: string;
      try {
        const st = statSync(path);
        stamp = `${st.size}/${st.mtimeMs}`;
      } catch {
        continue; // removed since the listing (a newer save dropped it)
      }
      let seen = before?.get(path);
      if (seen === undefined || seen.stamp !== stamp) {
        let meta: SnapshotMeta | null = null;
        try {
          meta = this.checkFile(stage, boundary, path).meta;
        } catch (e) {
          if (!(e instanceof SnapshotMismatch)) throw e;
        }
        seen = { stamp, meta };
      }
      checks.set(path, seen);
      if (seen.meta !== null && journalHolds(this.journalDir, seen.meta)) out.push(boundary);
    }
    return out;
  }

  /**
   * save() at the end of a start-up replay, as every stage does it: only when the replay reached
   * the journal's end (one stopped by a damaged frame may stop right at a segment's start, and
   * what follows would be missing from the snapshot), and a failure to write (a full disk) is
   * returned, not thrown: recovery goes on without the snapshot.
   */
  saveAfterReplay(
    stage: string,
    replay: { nextSequence: number; frames: number; problem: string | null },
    write: (w: SnapshotWriter) => void,
  ): { saved: string | null; error: string | null } {
    if (replay.problem !== null) return { saved: null, error: null };
    try {
      return { saved: this.save(stage, replay.nextSequence, replay.frames, write), error: null };
    } catch (e) {
      return { saved: null, error: e instanceof Error ? e.message : String(e) };
    }
  }

  /**
   * Writes the stage's snapshot at `boundary`, which must be the first sequence of a journal
   * segment, then drops all but its newest KEEP_SNAPSHOTS; returns the file's path. Writes
   * nothing (null) when the boundary is not a segment start, or when this start replayed fewer
   * than minFrames frames (`framesRead`): the snapshot it started from (if any) stays the newest,
   * and a snapshot that saves little replay costs more than it saves (a full-size copy of the
   * tables, written and fsynced, at every start).
   */
  save(stage: string, boundary: number, framesRead: number, write: (w: SnapshotWriter) => void): string | null {
    if (framesRead < this.minFrames) return null;
    const { at, prior } = segmentsAround(this.journalDir, boundary);
    if (at === null) return null;
    const priorSegment = prior === null ? null : { index: prior.index, engineEpochMs: prior.engineEpochMs };
    // Measured, then written into a buffer of its size, and written out in parts: one copy of the tables.
    const { payload } = written(write);
    const parts = snapshotParts({ stage, rules: SNAPSHOT_RULES_VERSION, boundary, segmentEpochMs: at.engineEpochMs, priorSegment, fingerprint: this.fingerprint, writtenAtMs: Date.now() }, payload);
    const path = join(this.dir, fileName(stage, boundary));
    // The journal before the boundary is as durable as the snapshot that stands for it (under
    // journal.fsync none or interval, its last frames may still be in the page cache).
    if (prior !== null) syncPath(join(this.journalDir, segmentFileName(prior.index)));
    this.pacedChunks += writeFileDurably(path, parts, this.writePace);
    // The newest KEEP_SNAPSHOTS that this start did not pass over as unreadable are kept: such a
    // file must not push out an older one that holds. It stays (it may fit another configuration,
    // e.g. another sor.statsAlpha) until KEEP_SNAPSHOTS kept ones are newer.
    const files = this.list(stage);
    const kept = files.filter((f) => !this.passedOver.has(f.path)).slice(0, KEEP_SNAPSHOTS);
    const oldestKept = kept.length < KEEP_SNAPSHOTS ? 0 : kept[kept.length - 1].boundary;
    for (const f of files) if (!kept.includes(f) && (!this.passedOver.has(f.path) || f.boundary < oldestKept)) rmSync(f.path, { force: true });
    return path;
  }
}
