// Goal: both message stores keep outbound messages by sequence number and the next sequence
// numbers; the memory store stays within its caps; the file store survives close/reopen and a
// torn tail, and resets; both keep the session-schedule period (not cleared by a reset). Method: frames recorded and read back, files inspected and damaged in
// a temporary directory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileMessageStore, MemoryMessageStore, type MessageStore } from './store.ts';
import { frame, show } from './test-util.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The real setTimeout, taken before any test fakes timers: the waits below sleep on it. */
const realSetTimeout = globalThis.setTimeout;

/**
 * Until the store has completed n background rounds. Each is an fdatasync, whose time is the
 * disk's (seconds on a loaded machine): limitMs only guards against a hang.
 */
async function rounds(store: FileMessageStore, n: number, limitMs = 50_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (store.backgroundSyncs < n) {
    if (Date.now() > end) throw new Error(`${store.backgroundSyncs} of ${n} background rounds completed`);
    await new Promise((r) => realSetTimeout(r, 10));
  }
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fix-store-'));
  dirs.push(d);
  return d;
}

function msg(seq: number, text = 'x'): Uint8Array {
  return frame(`35=8|49=V1|56=OMS|34=${seq}|52=20260105-09:00:00.000|58=${text}|`);
}

function readText(store: MessageStore, seq: number): string | null {
  const n = store.read(seq);
  return n === 0 ? null : show(store.readBuf, store.readStart, store.readStart + n);
}

function recordAll(store: MessageStore, from: number, to: number, adminEvery = 0): void {
  for (let s = from; s <= to; s++) {
    const admin = adminEvery > 0 && s % adminEvery === 0;
    const m = msg(s, `m${s}`);
    store.record(s, m, 0, admin ? 0 : m.length);
  }
}

describe.each([
  ['memory', () => new MemoryMessageStore()],
  ['file', () => new FileMessageStore(tempDir(), { fsync: 'never' })],
])('%s store', (_name, make) => {
  it('keeps application messages by seq, admin ones as markers, and the next seq', () => {
    const store = make();
    recordAll(store, 1, 10, 3);
    expect(store.nextSenderSeqNum).toBe(11);
    expect(readText(store, 2)).toContain('58=m2|');
    expect(readText(store, 3)).toBeNull(); // admin marker
    expect(readText(store, 10)).toContain('34=10|');
    expect(readText(store, 11)).toBeNull();
    store.close();
  });

  it('rolls back the last record', () => {
    const store = make();
    recordAll(store, 1, 3);
    store.rollback(3);
    expect(store.nextSenderSeqNum).toBe(3);
    expect(readText(store, 3)).toBeNull();
    recordAll(store, 3, 3);
    expect(readText(store, 3)).toContain('58=m3|');
    store.close();
  });

  it('reset drops every message and restarts both numbers at 1', () => {
    const store = make();
    recordAll(store, 1, 5);
    store.setNextTargetSeqNum(9);
    store.reset();
    expect([store.nextSenderSeqNum, store.nextTargetSeqNum]).toEqual([1, 1]);
    expect(readText(store, 2)).toBeNull();
    recordAll(store, 1, 2);
    expect(readText(store, 2)).toContain('58=m2|');
    store.close();
  });

  it('a jump forward leaves the skipped numbers unreadable (gap-filled on resend)', () => {
    const store = make();
    recordAll(store, 1, 2);
    store.setNextSenderSeqNum(100);
    recordAll(store, 100, 101);
    expect(readText(store, 50)).toBeNull();
    expect(readText(store, 101)).toContain('58=m101|');
    expect(readText(store, 2)).toContain('58=m2|');
    store.close();
  });
});

describe('MemoryMessageStore bounds', () => {
  it('keeps at most maxMessages messages and maxBytes bytes; older ones read as absent', () => {
    const store = new MemoryMessageStore({ maxMessages: 100, maxBytes: 4096 });
    recordAll(store, 1, 1000);
    expect(store.firstReadableSeq).toBe(901);
    expect(readText(store, 500)).toBeNull();
    expect(readText(store, 1000)).toContain('58=m1000|');
    // ~70 bytes per message: 4096 bytes hold the last ~58, not all 100 the index covers.
    expect(readText(store, 920)).toBeNull();
    expect(readText(store, 960)).toContain('58=m960|');
  });
});

describe('FileMessageStore persistence', () => {
  it('keeps the schedule period across reopen and reset, and ignores a damaged period file', () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir);
    expect(a.periodStartMs).toBe(0);
    a.setPeriodStartMs(1_767_600_000_000);
    a.reset();
    a.close();
    const b = new FileMessageStore(dir);
    expect(b.periodStartMs).toBe(1_767_600_000_000);
    b.close();
    fs.writeFileSync(path.join(dir, 'period'), 'garbage');
    const c = new FileMessageStore(dir);
    expect(c.periodStartMs).toBe(0);
    c.close();
  });

  it('writeAhead hands records to the OS: a store opened after a kill (no flush, no close) resumes past them', () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir, { fsync: 'never' });
    a.record(1, msg(1, 'one'), 0, msg(1, 'one').length);
    a.record(2, msg(2, 'two'), 0, msg(2, 'two').length);
    a.setNextTargetSeqNum(9);
    // Without writeAhead the records sit in the process's buffer: a kill now would lose them.
    const before = new FileMessageStore(dir, { fsync: 'never' });
    expect(before.nextSenderSeqNum).toBe(1);
    before.close();
    a.writeAhead();
    // `a` is never flushed or closed, as after SIGKILL.
    const b = new FileMessageStore(dir, { fsync: 'never' });
    expect(b.nextSenderSeqNum).toBe(3);
    expect(b.nextTargetSeqNum).toBe(9);
    expect(readText(b, 2)).toContain('two');
    b.close();
  });

  it('reopening resumes both sequence numbers and every stored message', () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir);
    recordAll(a, 1, 300, 7);
    a.setNextTargetSeqNum(42);
    a.close();
    const b = new FileMessageStore(dir);
    expect([b.nextSenderSeqNum, b.nextTargetSeqNum]).toEqual([301, 42]);
    expect(readText(b, 1)).toContain('58=m1|');
    expect(readText(b, 299)).toContain('58=m299|');
    expect(readText(b, 7)).toBeNull();
    recordAll(b, 301, 302);
    b.close();
    const c = new FileMessageStore(dir);
    expect(c.nextSenderSeqNum).toBe(303);
    expect(readText(c, 302)).toContain('58=m302|');
    c.close();
  });

  it('records flushed to the log but missing from the seqnums file still advance the sender seq', () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir, { fsync: 'never' });
    recordAll(a, 1, 10);
    a.flush();
    // Simulate a crash after the log write: the seqnums file says 5 (stale), the log says 10.
    fs.writeFileSync(path.join(dir, 'seqnums'), `${'5'.padStart(20, '0')}:${'3'.padStart(20, '0')}\n`);
    const b = new FileMessageStore(dir);
    expect([b.nextSenderSeqNum, b.nextTargetSeqNum]).toEqual([11, 3]);
    b.close();
    a.close();
  });

  it('cuts a torn record off the tail and re-indexes records the index missed', () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir);
    recordAll(a, 1, 20);
    a.close();
    const log = path.join(dir, 'messages.log');
    const idx = path.join(dir, 'messages.idx');
    fs.truncateSync(idx, 12 * 15); // the index lost its last five entries
    fs.truncateSync(log, fs.statSync(log).size - 10); // and the last record is torn
    const b = new FileMessageStore(dir);
    expect(readText(b, 19)).toContain('58=m19|');
    expect(readText(b, 20)).toBeNull();
    expect(fs.statSync(idx).size).toBe(12 * 19);
    // The seqnums file still says 21: numbers are never reused even when the record is lost.
    expect(b.nextSenderSeqNum).toBe(21);
    b.close();
  });

  it("fsync 'always' writes every record at once", () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir, { fsync: 'always' });
    recordAll(a, 1, 3);
    expect(fs.statSync(path.join(dir, 'messages.idx')).size).toBe(36);
    a.rollback(3);
    expect(fs.statSync(path.join(dir, 'messages.idx')).size).toBe(24);
    a.close();
  });

  it("fsync 'background': flush writes at once and returns; fdatasync rounds follow, one at a time, covering later writes", async () => {
    const dir = tempDir();
    const a = new FileMessageStore(dir, { fsync: 'background' });
    recordAll(a, 1, 3);
    a.flush();
    // Written before flush returned, whatever the disk does (a killed process loses nothing).
    expect(fs.statSync(path.join(dir, 'messages.idx')).size).toBe(36);
    // Writes while a round is in flight are covered by the next round, not lost.
    recordAll(a, 4, 6);
    a.flush();
    expect(fs.statSync(path.join(dir, 'messages.idx')).size).toBe(72);
    await rounds(a, 2);
    expect(a.backgroundSyncs).toBe(2);
    a.close();
    const b = new FileMessageStore(dir, { fsync: 'never' });
    expect(b.nextSenderSeqNum).toBe(7);
    b.close();
  }, 120_000);

  it("fsync 'background': rounds start at most once per interval, however often the session flushes; the last writes still get theirs", async () => {
    const dir = tempDir();
    // An interval no test run reaches: every flush after the first finds a round too recent.
    const a = new FileMessageStore(dir, { fsync: 'background', backgroundSyncIntervalMs: 600_000 });
    recordAll(a, 1, 1);
    a.flush();
    for (let seq = 2; seq <= 200; seq++) {
      recordAll(a, seq, seq);
      a.flush();
      await new Promise((r) => setImmediate(r)); // lets the first round complete
    }
    await rounds(a, 1);
    expect(a.backgroundSyncs).toBe(1);
    // Written at once all the same, and synced at close.
    expect(fs.statSync(path.join(dir, 'messages.idx')).size).toBe(200 * 12);
    a.close();

    // A round the interval holds back starts from its timer, with no later flush. The store's
    // clock (performance.now) and timer (setTimeout) are faked, its fdatasyncs real: the clock
    // moves only when the test moves it, so the second flush is within the interval however long
    // the first round's fdatasync took (on the wall clock a slow disk could use up the 2 s).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const b = new FileMessageStore(tempDir(), { fsync: 'background', backgroundSyncIntervalMs: 2000 });
      recordAll(b, 1, 1);
      b.flush();
      await rounds(b, 1);
      expect(b.backgroundSyncs).toBe(1);
      recordAll(b, 2, 2);
      b.flush(); // within 2 s of the first round's start
      expect(b.deferredRounds).toBe(0);
      vi.advanceTimersByTime(1999);
      expect(b.deferredRounds).toBe(0); // held back for the whole interval
      vi.advanceTimersByTime(1);
      await rounds(b, 2);
      expect(b.backgroundSyncs).toBe(2);
      expect(b.deferredRounds).toBe(1);
      b.close();
    } finally {
      vi.useRealTimers();
    }
    expect(() => new FileMessageStore(tempDir(), { fsync: 'background', backgroundSyncIntervalMs: Infinity })).toThrow(/finite/);
  }, 120_000);
});
