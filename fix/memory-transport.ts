/**
 * In-memory transports for tests and the deterministic simulation: two sessions joined by a
 * pipe that moves bytes only when pump() is called, so the order of events is the caller's.
 * Allocates per write (a copy of the bytes): not for the hot path.
 */
import type { FixSession, FixTransport } from './session.ts';

export class MemoryTransport implements FixTransport {
  /** Bytes written and not yet delivered, one entry per write. */
  readonly outbox: Uint8Array[];
  closed: boolean;
  /** When false, write() refuses everything (back-pressure tests). */
  accepting: boolean;
  /** When > 0, write() refuses bytes beyond this many undelivered ones (a bounded socket buffer). */
  maxBufferedBytes: number;
  /** Largest number of undelivered bytes seen (high-water mark). */
  maxBufferedSeen: number;
  /** The owning session paused its input: the link holds the peer's bytes for it. */
  inputPaused: boolean;
  private buffered: number;

  constructor() {
    this.outbox = [];
    this.closed = false;
    this.accepting = true;
    this.maxBufferedBytes = 0;
    this.maxBufferedSeen = 0;
    this.inputPaused = false;
    this.buffered = 0;
  }

  setInputPaused(paused: boolean): void {
    this.inputPaused = paused;
  }

  write(buf: Uint8Array, start: number, length: number): boolean {
    if (this.closed || !this.accepting) return false;
    if (this.maxBufferedBytes > 0 && this.buffered + length > this.maxBufferedBytes) return false;
    this.outbox.push(buf.slice(start, start + length));
    this.buffered += length;
    if (this.buffered > this.maxBufferedSeen) this.maxBufferedSeen = this.buffered;
    return true;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  close(): void {
    this.closed = true;
  }

  /** Removes and returns everything written so far. */
  take(): Uint8Array[] {
    this.buffered = 0;
    return this.outbox.splice(0, this.outbox.length);
  }
}

/** Two sessions joined back to back; pump() delivers until both sides are quiet. */
export class MemoryLink {
  readonly a: FixSession;
  readonly b: FixSession;
  readonly aToB: MemoryTransport;
  readonly bToA: MemoryTransport;
  private closeSeen: boolean;

  constructor(a: FixSession, b: FixSession) {
    this.a = a;
    this.b = b;
    this.aToB = new MemoryTransport();
    this.bToA = new MemoryTransport();
    this.closeSeen = false;
  }

  /** Attaches both transports: acceptor first, so the initiator's Logon finds it listening. */
  connect(): void {
    this.b.onConnected(this.bToA);
    this.a.onConnected(this.aToB);
  }

  /** Delivers queued bytes both ways until nothing moves; propagates a close to both sides. */
  pump(maxRounds = 100): void {
    for (let round = 0; round < maxRounds; round++) {
      // A side that paused its input gets nothing: its peer's bytes wait in the link.
      const fromA = this.bToA.inputPaused ? [] : this.aToB.take();
      const fromB = this.aToB.inputPaused ? [] : this.bToA.take();
      for (const chunk of fromA) this.b.onBytes(chunk);
      for (const chunk of fromB) this.a.onBytes(chunk);
      if (!this.closeSeen && (this.aToB.closed || this.bToA.closed)) {
        this.closeSeen = true;
        // Bytes already written reach the peer before the close, as TCP would deliver them.
        for (const chunk of this.aToB.take()) this.b.onBytes(chunk);
        for (const chunk of this.bToA.take()) this.a.onBytes(chunk);
        this.a.onTransportClosed(this.aToB);
        this.b.onTransportClosed(this.bToA);
      }
      const aQuiet = this.aToB.outbox.length === 0 || this.bToA.inputPaused;
      const bQuiet = this.bToA.outbox.length === 0 || this.aToB.inputPaused;
      if (fromA.length === 0 && fromB.length === 0 && aQuiet && bQuiet) return;
    }
    throw new Error('Invariant: the link goes quiet within maxRounds');
  }
}
