/**
 * SPSC ring buffer over a SharedArrayBuffer: variable-length records, one producer thread, one
 * consumer thread, no locks.
 *
 * Why variable-length records rather than fixed slots: the records that cross rings range from a
 * 24-byte cancel to a route decision with one entry per venue. Fixed slots would have to be sized
 * for the largest and would waste cache on every small one; with variable records a batch of small
 * messages shares cache lines, and one commit publishes many records at once. The cost is a
 * padding record when a record would straddle the end of the buffer.
 *
 * Memory layout (one SharedArrayBuffer):
 *
 *   0                                              capacity
 *   +----------------------------------------------+------------------+------------------+------------------+
 *   | records: [len|type|body...][len|type|body...] | HEAD (128 bytes) | TAIL (128 bytes) | GATE (128 bytes) |
 *   +----------------------------------------------+------------------+------------------+------------------+
 *
 * HEAD is written only by the consumer, TAIL only by the producer; each sits alone on its own
 * 128-byte block so the two threads never write the same cache line (nor its adjacent-line
 * prefetch pair) in the common case. The HEAD block's second line holds ROOM_WAITING (word 16),
 * the one word both ends write, and only when the ring is full (below). GATE is the optional consumer gate
 * (RingGate below): a third thread publishes there how far the consumer may go, and the
 * consumer (or the producer, for it) flags there that it waits. Positions are 32-bit counters
 * that only grow and wrap at 2^32: index = position & mask, fill = (tail - head) >>> 0; capacity
 * is a power of two <= 2^30, so the difference is exact across the wrap.
 *
 * Record (8-byte aligned, so Float64 fields in a body stay aligned):
 *
 *   0        4        8                          length (aligned up to 8)
 *   +--------+--------+--------------------------+
 *   | length | typeId | body (bodyLength bytes)  |
 *   +--------+--------+--------------------------+
 *
 * length counts the header and the padding to 8. A record never wraps: when it would not fit
 * before the end, the producer writes a PADDING record to the end and starts at index 0.
 *
 * Publication: the producer writes headers and bodies with plain stores, then publishes the new
 * tail with one Atomics.store at commit(); the consumer reads the tail with Atomics.load, so every
 * byte before that tail is visible to it (Atomics are sequentially consistent). A reader therefore
 * never sees half a record, and one commit can publish a whole batch. The consumer releases space
 * by storing its head once per drained batch.
 *
 * Backpressure: tryClaim returns FULL (-1) when the record does not fit. Nothing is ever dropped
 * silently: the producer decides (reject the order upstream, stop reading its own input, retry).
 *
 * Waking a producer that waits for room: a stage whose output ring is full stops taking input and
 * parks on its own doorbell. Whatever check finds the ring full (tryClaim returning FULL,
 * inputsThatFit returning 0, hasRoomFor returning false) stores ROOM_WAITING = 1 and then rereads
 * the head; a consumer made with the producer's doorbell, after each store of its head, loads
 * ROOM_WAITING and, when it takes it from 1 to 0, rings that doorbell. Sequentially consistent
 * Atomics again: producer store(ROOM_WAITING, 1), load(HEAD); consumer store(HEAD),
 * load(ROOM_WAITING): either the producer's reread sees the room, or the consumer sees the flag.
 * A flag taken while the producer is still awake rings nobody (Doorbell.ring notifies only a
 * parked thread), and that is safe: the producer's park protocol polls once more after announcing
 * its park, and that poll's room check rereads the head, which the consumer stored before it
 * read PARKED = 0; a check that still finds the ring full flags again. Several consumers may
 * ring one producer's doorbell (a stage writing several rings): one that reads PARKED = 0
 * because another already rang finds SEQ moved, so the producer's wait returns and it looks
 * again, as in engine/doorbell.ts. The argument needs every stage's last look before parking to
 * reach a flagging check for each full output (risk's batchLimit and the SOR's roomFor ask every
 * ring, fix its overflow's claim or inputsThatFit). Without it a full ring's producer saw room
 * only at its next wake for another reason, or its sleep bound (idle.maxSleepMs); `backoff`
 * stages never announce a park, so for them it changes nothing. The flag costs the consumer one
 * load per release, and the producer two atomics per check that finds the ring full; a producer
 * that only rejects on FULL (ingest, the SOR's audit copy to ingest) is woken once per full
 * spell for nothing.
 *
 * Gated consumption (a Disruptor-style dependency on a third stage): the producer may stamp a
 * record with a mark (a number in its body, up to 2^53); the consumer's pollWhile asks its
 * handler whether the record may go (GatedRecordHandler.accept) before consuming it, and the
 * handler asks gatePasses(mark): true once the gate's publisher (RingGate) has published a value
 * >= mark. A refused record stays where it is, with everything behind it: the ring is the holding
 * buffer (no copy), and the producer feels back-pressure if the gate stays shut. The engine uses
 * it so that no report leaves the process before its event is in the journal: risk stamps each
 * client-facing record with its count of journal-feed records, and the persistence stage
 * publishes how many of them are durable (persistence/journal-stage.ts). Child orders wait the
 * same way for the SOR's ROUTE_AUDIT that names them (the gate of sorToFix).
 *
 *   GATE block (32 int32 words):
 *   word 0  VALUE_LO  low 32 bits of the published value   } written by the publisher only:
 *   word 1  VALUE_HI  value / 2^32                          } LO first, then HI
 *   word 2  ARMED     0: no publisher, every mark passes; 1: marks wait for the value
 *   word 16 WAITING   1: the consumer found the gate shut, or the producer left it asleep behind
 *                     the gate (own 64-byte line: the publisher takes it back to 0)
 *
 * The value is two words because Atomics has no float64: the publisher stores LO then HI, the
 * consumer loads HI then LO. A load therefore never returns more than the value published (at a
 * 2^32 carry it may briefly return less, which only delays a record): the gate errs shut.
 *
 * Wake-up without a lost wake and without a futex per publish: the consumer stores WAITING = 1,
 * then reloads the value; the publisher stores the value, then reads WAITING, and only when it
 * takes it from 1 to 0 rings the consumer's doorbell (which notifies only a parked consumer).
 * Atomics are sequentially consistent, so either the consumer's reload sees the new value or
 * the publisher sees WAITING = 1; the consumer's park protocol (engine/doorbell.ts) re-polls,
 * and so re-checks the gate, after announcing its park.
 *
 * A commit whose first record the gate holds leaves a parked consumer asleep (a producer made
 * with a GateMarkReader): waking it would only make it find the gate shut, flag WAITING and park
 * again (a futex wake and a park for nothing, per report). So the producer flags WAITING itself,
 * reloads the value, and rings only if the value now passes that record; otherwise the
 * publisher's next publish rings (any publish, as for a consumer's own flag). No lost wake-up,
 * by the same order: producer store(TAIL), store(WAITING, 1), load(VALUE); publisher
 * store(VALUE), load(WAITING). Either the producer's load sees a value that passes (it rings,
 * after its tail is public), or the publish of the first value that passes comes after that load,
 * so the publisher's load comes after the producer's flag: it reads 1 unless an earlier publish
 * already took it to 0 and rang, after the tail was public, in which case the consumer looks at
 * the record, finds the gate shut and flags WAITING itself, as above. Only the batch's first
 * record decides: the consumer cannot reach the batch before it, and records before the batch
 * are already covered (a consumer parked with records in the ring looked at them and flagged the
 * wait, or could not poll that ring at all, as fix while its own outputs are full, and is woken
 * when they have room: ROOM_WAITING above). A batch starting with a record that waits for nothing
 * (mark 0) rings, even behind a held record. The producer reads PARKED first and touches the
 * gate words only while the consumer is parked; a consumer it reads awake is not rung (it sees the
 * tail, stored before that load, when it looks before parking), so the load replaces ring()'s own.
 */

import { copyBytes } from './bytes.ts';
import { CommonCounter, type StageCounters } from './counters.ts';
import { Doorbell, takeFlag } from './doorbell.ts';

export const HEADER_LENGTH = 8;
export const LENGTH_OFFSET = 0;
export const TYPE_OFFSET = 4;
export const RECORD_ALIGNMENT = 8;
/** Each position counter sits alone in a block this large (two 64-byte lines). */
export const COUNTER_PAD = 128;
export const HEAD_OFFSET_FROM_END = 0;
export const TAIL_OFFSET_FROM_END = COUNTER_PAD;
export const GATE_OFFSET_FROM_END = 2 * COUNTER_PAD;
export const TRAILER_LENGTH = 3 * COUNTER_PAD;
/** Word indices inside the GATE block (see the drawing above). */
export const GATE_VALUE_LO = 0;
export const GATE_VALUE_HI = 1;
export const GATE_ARMED = 2;
export const GATE_WAITING = 16;
/** Word index inside the HEAD block of ROOM_WAITING: 1 when the producer found the ring full (its own 64-byte line). */
export const HEAD_ROOM_WAITING = 16;
const TWO_TO_32 = 4294967296;
/** typeId of the filler written when a record would straddle the end of the buffer. */
export const PADDING_TYPE = -1;
/** Returned by tryClaim when the ring has no room for the record. */
export const FULL = -1;
export const MIN_CAPACITY = 1024;
export const MAX_CAPACITY = 1 << 30;

export function alignRecord(length: number): number {
  return (length + (RECORD_ALIGNMENT - 1)) & ~(RECORD_ALIGNMENT - 1);
}

/** The largest body a ring of this capacity accepts: an eighth of it, so a batch always fits. */
export function maxBodyLength(capacity: number): number {
  return (capacity >>> 3) - HEADER_LENGTH;
}

/**
 * Reads the gate mark a record is stamped with (0: the record waits for nothing): the consumer's
 * accept asks the gate about the same mark. An object made once (codecs/records.ts JOURNAL_MARKS).
 */
export interface GateMarkReader {
  markOf(view: DataView, typeId: number, offset: number): number;
}

/** The shared memory of one ring: created by the supervisor, handed to both threads. */
export interface RingMemory {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
}

export function createRingMemory(capacity: number): RingMemory {
  if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new Error(`Condition failed: ring capacity ${capacity} in [${MIN_CAPACITY}, ${MAX_CAPACITY}]`);
  }
  if ((capacity & (capacity - 1)) !== 0) {
    throw new Error(`Condition failed: ring capacity ${capacity} is a power of two`);
  }
  return { sab: new SharedArrayBuffer(capacity + TRAILER_LENGTH), capacity };
}

function checkMemory(memory: RingMemory): void {
  const capacity = memory.capacity;
  // Memory may come from another thread or be built by hand: the index mask needs a power of two.
  if (!(capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY && (capacity & (capacity - 1)) === 0)) {
    throw new Error(`Condition failed: ring capacity ${capacity} is a power of two in [${MIN_CAPACITY}, ${MAX_CAPACITY}]`);
  }
  if (memory.sab.byteLength !== memory.capacity + TRAILER_LENGTH) {
    throw new Error('Condition failed: ring memory length = capacity + trailer');
  }
}

/** Views shared by both ends: the record bytes and the two position counters. */
class RingViews {
  readonly capacity: number;
  readonly mask: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly counters: Int32Array;
  readonly headIndex: number;
  readonly tailIndex: number;
  readonly gateIndex: number;
  readonly roomIndex: number;

  constructor(memory: RingMemory) {
    checkMemory(memory);
    this.capacity = memory.capacity;
    this.mask = memory.capacity - 1;
    this.bytes = new Uint8Array(memory.sab, 0, memory.capacity);
    this.view = new DataView(memory.sab, 0, memory.capacity);
    this.counters = new Int32Array(memory.sab, memory.capacity, TRAILER_LENGTH >>> 2);
    this.headIndex = HEAD_OFFSET_FROM_END >>> 2;
    this.tailIndex = TAIL_OFFSET_FROM_END >>> 2;
    this.gateIndex = GATE_OFFSET_FROM_END >>> 2;
    this.roomIndex = (HEAD_OFFSET_FROM_END >>> 2) + HEAD_ROOM_WAITING;
  }
}

/**
 * A ring's positions read from any thread, its views built once: bytes consumed (head) and
 * published (tail) since the ring was made, modulo 2^32. For /health's stall watch
 * (workers/ring-stall-watch.ts) and ring depths; not for a hot path.
 */
export class RingPositions {
  private readonly views: RingViews;

  constructor(memory: RingMemory) {
    this.views = new RingViews(memory);
  }

  head(): number {
    return Atomics.load(this.views.counters, this.views.headIndex) >>> 0;
  }

  tail(): number {
    return Atomics.load(this.views.counters, this.views.tailIndex) >>> 0;
  }

  /** Bytes committed and not yet consumed (the head loaded first, or given: never negative). */
  depthBytes(head: number = this.head()): number {
    return (this.tail() - head) >>> 0;
  }
}

/**
 * The producer end. One thread only. Records are claimed, written in place through `view` /
 * `bytes` at the returned offset, and published together by commit().
 */
export class RingProducer {
  readonly capacity: number;
  readonly maxBodyLength: number;
  /** Record memory: write the body of a claimed record here, at the offset tryClaim returned. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private readonly mask: number;
  private readonly counters: Int32Array;
  private readonly headIndex: number;
  private readonly tailIndex: number;
  private readonly doorbell: Doorbell | null;
  private readonly gateIndex: number;
  private readonly roomIndex: number;
  /** Set for a gated ring: commit leaves a parked consumer to the gate's publisher when it could not take the batch yet. */
  private readonly gateMarks: GateMarkReader | null;
  /** Where WAKES_LEFT_TO_GATE is counted (CommonCounter.WAKES_LEFT_TO_GATE), or null. */
  private readonly stageCounters: StageCounters | null;
  /** Position after the last claimed record (published or not). */
  private tail: number;
  /** Last published tail. */
  private published: number;
  /** The consumer's head as last read: reread only when the ring looks full. */
  private headCache: number;
  /** Claims refused because the ring was full (read by counters, written only here). */
  fullCount: number;
  /** Room checks that found the ring full and flagged ROOM_WAITING (this thread's count). */
  roomWaits: number;
  /**
   * Records claimed by this producer object since it was made (padding not counted): the count
   * a gate mark is taken from. Equal to the consumer's recordsConsumed once both ends have seen
   * the same records, when both ends were made over the same fresh memory.
   */
  recordsClaimed: number;
  /** Commits that left the parked consumer asleep because the gate held their first record (its publisher rings instead). */
  wakesLeftToGate: number;
  /**
   * A quiet ring: commit rings a parked consumer only once half the ring waits. Its consumer
   * drains it whenever something else wakes it (its other rings, its sockets, its sleep bound)
   * and on demand; for records nobody waits on at once (workers/topology.ts QUIET_RINGS).
   */
  private readonly quiet: boolean;

  /**
   * gateMarks: for a gated ring (the consumer's accept asks gatePasses(mark)), how to read a
   * record's mark, so a commit the consumer cannot take yet does not wake it (see the drawing at
   * the top). null: every commit rings a parked consumer. counters: the stage's, where each commit
   * left to the gate is counted as WAKES_LEFT_TO_GATE. quiet: ring only once half the ring waits
   * (see the field).
   */
  constructor(memory: RingMemory, doorbell: Doorbell | null, gateMarks: GateMarkReader | null = null, counters: StageCounters | null = null, quiet = false) {
    const views = new RingViews(memory);
    this.capacity = views.capacity;
    this.maxBodyLength = maxBodyLength(views.capacity);
    this.bytes = views.bytes;
    this.view = views.view;
    this.mask = views.mask;
    this.counters = views.counters;
    this.headIndex = views.headIndex;
    this.tailIndex = views.tailIndex;
    this.doorbell = doorbell;
    this.quiet = quiet;
    this.gateIndex = views.gateIndex;
    this.roomIndex = views.roomIndex;
    this.gateMarks = gateMarks;
    this.stageCounters = counters;
    this.tail = Atomics.load(views.counters, views.tailIndex) >>> 0;
    this.published = this.tail;
    this.headCache = Atomics.load(views.counters, views.headIndex) >>> 0;
    this.fullCount = 0;
    this.roomWaits = 0;
    this.recordsClaimed = 0;
    this.wakesLeftToGate = 0;
  }

  /**
   * Claims room for a record of `length` bytes with the given typeId and copies it there as it is
   * from src[offset..], for a stage that checked the ring's room before its batch: no room is a
   * broken invariant (throws). Visible at commit().
   */
  copyChecked(typeId: number, src: Uint8Array, offset: number, length: number): void {
    copyBytes(src, offset, this.bytes, this.claimChecked(typeId, length), length);
  }

  /**
   * tryClaim for a stage that checked the ring's room before its batch: returns the body's
   * offset; no room is a broken invariant (throws). Visible at commit().
   */
  claimChecked(typeId: number, bodyLength: number): number {
    const at = this.tryClaim(typeId, bodyLength);
    if (at === FULL) throw new Error('Invariant: room checked before the batch');
    return at;
  }

  /**
   * Claims room for a record of bodyLength bytes with the given typeId (>= 0). Returns the byte
   * offset of the body in `bytes`/`view`, or FULL. The record becomes visible at commit().
   */
  tryClaim(typeId: number, bodyLength: number): number {
    if (!(bodyLength >= 0 && bodyLength <= this.maxBodyLength)) {
      throw new Error(`Condition failed: body length ${bodyLength} <= ${this.maxBodyLength}`);
    }
    // A negative typeId would read back as PADDING_TYPE (-1: silently skipped) or be mistaken
    // for it later; one above int32 would be truncated by the store.
    if ((typeId | 0) !== typeId || typeId < 0) {
      throw new Error(`Condition failed: typeId ${typeId} is an int32 >= 0`);
    }
    const recordLength = alignRecord(HEADER_LENGTH + bodyLength);
    let index = this.tail & this.mask;
    const toEnd = this.capacity - index;
    const required = recordLength <= toEnd ? recordLength : toEnd + recordLength;
    if (this.capacity - ((this.tail - this.headCache) >>> 0) < required) {
      this.headCache = Atomics.load(this.counters, this.headIndex) >>> 0;
      if (this.capacity - ((this.tail - this.headCache) >>> 0) < required && this.waitForRoom() < required) {
        this.fullCount++;
        return FULL;
      }
    }
    const view = this.view;
    if (recordLength > toEnd) {
      view.setInt32(index + LENGTH_OFFSET, toEnd, true);
      view.setInt32(index + TYPE_OFFSET, PADDING_TYPE, true);
      this.tail = (this.tail + toEnd) >>> 0;
      index = 0;
    }
    view.setInt32(index + LENGTH_OFFSET, recordLength, true);
    view.setInt32(index + TYPE_OFFSET, typeId, true);
    this.tail = (this.tail + recordLength) >>> 0;
    this.recordsClaimed++;
    return index + HEADER_LENGTH;
  }

  /**
   * Publishes every record claimed since the last commit, and wakes a parked consumer, unless
   * (gated ring) the gate holds the batch's first record: then the gate's publisher wakes it.
   */
  commit(): void {
    if (this.tail === this.published) return;
    const first = this.published;
    this.published = this.tail;
    Atomics.store(this.counters, this.tailIndex, this.tail | 0);
    const bell = this.doorbell;
    if (bell === null) return;
    if (this.quiet && this.depthBytes() < this.capacity >>> 1) return;
    if (this.gateMarks !== null) {
      // Awake: nothing to ring (ring() would read the same flag and do nothing).
      if (!bell.isParked()) return;
      if (this.gateHolds(first)) {
        this.wakesLeftToGate++;
        if (this.stageCounters !== null) this.stageCounters.add(CommonCounter.WAKES_LEFT_TO_GATE, 1);
        return;
      }
    }
    bell.ring();
  }

  /**
   * After the tail is public: true when the gate holds the record at `position` (the batch's
   * first), with WAITING flagged so the publish that lets it pass rings the consumer. False when
   * the gate is not armed or lets the record pass (ring now).
   */
  private gateHolds(position: number): boolean {
    const words = this.counters;
    const g = this.gateIndex;
    if (Atomics.load(words, g + GATE_ARMED) === 0) return false;
    const view = this.view;
    let index = position & this.mask;
    let typeId = view.getInt32(index + TYPE_OFFSET, true);
    // A padding record runs to the end of the buffer: the batch's first record is at 0.
    if (typeId === PADDING_TYPE) {
      index = 0;
      typeId = view.getInt32(TYPE_OFFSET, true);
    }
    const mark = this.gateMarks!.markOf(view, typeId, index + HEADER_LENGTH);
    if (mark <= readGateValue(words, g)) return false;
    return mark > flagGateWait(words, g);
  }

  /**
   * Bytes free for new records, rereading the consumer's head. A plain look: it flags no wait
   * (for a producer that drops or rejects when short of room; one that will retry uses the
   * checks below).
   */
  freeBytes(): number {
    this.headCache = Atomics.load(this.counters, this.headIndex) >>> 0;
    return this.capacity - ((this.tail - this.headCache) >>> 0);
  }

  /**
   * The ring is too full for what this producer needs: flags ROOM_WAITING, so the consumer's next
   * release rings this producer's doorbell, then rereads the head (after the flag: see the top).
   * Returns the bytes free now.
   */
  private waitForRoom(): number {
    this.roomWaits++;
    Atomics.store(this.counters, this.roomIndex, 1);
    return this.freeBytes();
  }

  /**
   * True when `count` records of up to bodyLength bytes each are certain to fit. Stages call it
   * before taking an input whose handling must not fail for lack of output room. False flags
   * ROOM_WAITING: the consumer rings this producer when it frees room.
   */
  hasRoomFor(count: number, bodyLength: number): boolean {
    const worst = count * alignRecord(HEADER_LENGTH + bodyLength) + alignRecord(HEADER_LENGTH + bodyLength);
    if (this.capacity - ((this.tail - this.headCache) >>> 0) >= worst) return true;
    return this.freeBytes() >= worst || this.waitForRoom() >= worst;
  }

  /**
   * How many inputs, each writing at most worstBytesPerInput (headers and alignment included),
   * are certain to fit, when no single record is longer than largestBodyLength: room for one such
   * record is held back for the padding a claim leaves at the end of the ring when it wraps.
   * 0 flags ROOM_WAITING: the consumer rings this producer when it frees room.
   */
  inputsThatFit(worstBytesPerInput: number, largestBodyLength: number): number {
    const reserve = alignRecord(HEADER_LENGTH + largestBodyLength);
    let n = Math.floor((this.freeBytes() - reserve) / worstBytesPerInput);
    if (n <= 0) n = Math.floor((this.waitForRoom() - reserve) / worstBytesPerInput);
    return n > 0 ? n : 0;
  }

  /** Records committed but not yet consumed, in bytes. */
  depthBytes(): number {
    return (this.published - (Atomics.load(this.counters, this.headIndex) >>> 0)) >>> 0;
  }
}

/** Called for each record the consumer drains; an object made once, never a closure per message. */
export interface RecordHandler {
  /**
   * typeId and the body's offset and length in the ring's `view`/`bytes`. The body is valid only
   * until onRecord returns: copy what must outlive it.
   */
  onRecord(typeId: number, offset: number, length: number): void;
}

/**
 * A handler for RingConsumer.pollWhile: accept is asked first, with the record still in the ring;
 * false leaves it (and every record behind it) there for a later poll, true consumes it and
 * hands it to onRecord. accept may be asked again about the same record on a later poll, so it
 * must not act on it (only decide).
 */
export interface GatedRecordHandler extends RecordHandler {
  accept(typeId: number, offset: number, length: number): boolean;
}

/** A stage that drains several rings: each record comes with the memory of the ring it is in. */
export interface RingRecordHandler {
  onRecord(view: DataView, bytes: Uint8Array, typeId: number, offset: number, length: number): void;
}

/** Hands one inbound ring's records to a RingRecordHandler with that ring's memory (one per ring, made at start-up). */
export class RingDispatch implements RecordHandler {
  private readonly target: RingRecordHandler;
  private readonly consumer: RingConsumer;
  constructor(target: RingRecordHandler, consumer: RingConsumer) {
    this.target = target;
    this.consumer = consumer;
  }
  onRecord(typeId: number, offset: number, length: number): void {
    this.target.onRecord(this.consumer.view, this.consumer.bytes, typeId, offset, length);
  }
}

/** The consumer end. One thread only. */
export class RingConsumer {
  readonly capacity: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private readonly mask: number;
  private readonly counters: Int32Array;
  private readonly headIndex: number;
  private readonly tailIndex: number;
  private readonly gateIndex: number;
  private readonly roomIndex: number;
  /** The producer's doorbell, rung when a release answers its ROOM_WAITING (null: not woken, e.g. on its own thread). */
  private readonly producerBell: Doorbell | null;
  /** Where ROOM_WAKES is counted (CommonCounter.ROOM_WAKES), or null. */
  private readonly stageCounters: StageCounters | null;
  private head: number;
  /** The gate value last read (a lower bound of the published one). */
  private gateCache: number;
  /** Records handed to a handler since this consumer object was made (padding not counted). */
  recordsConsumed: number;
  /** Times gatePasses found the gate shut (this thread's count). */
  gateWaits: number;
  /** Releases that answered the producer's ROOM_WAITING by ringing its doorbell (this thread's count). */
  roomWakes: number;

  /**
   * producerBell: the producer thread's doorbell, rung after a release when the producer flagged
   * that it waits for room (see the top); null when nobody needs waking (the producer polls, or
   * runs on this thread). counters: the stage's, where each such ring is counted as ROOM_WAKES.
   */
  constructor(memory: RingMemory, producerBell: Doorbell | null = null, counters: StageCounters | null = null) {
    const views = new RingViews(memory);
    this.capacity = views.capacity;
    this.bytes = views.bytes;
    this.view = views.view;
    this.mask = views.mask;
    this.counters = views.counters;
    this.headIndex = views.headIndex;
    this.tailIndex = views.tailIndex;
    this.gateIndex = views.gateIndex;
    this.roomIndex = views.roomIndex;
    this.producerBell = producerBell;
    this.stageCounters = counters;
    this.head = Atomics.load(views.counters, views.headIndex) >>> 0;
    this.gateCache = 0;
    this.recordsConsumed = 0;
    this.gateWaits = 0;
    this.roomWakes = 0;
  }

  /** After a store of the head: rings the producer if it flagged that it waits for room (see the top). */
  private answerRoomWait(): void {
    if (takeFlag(this.counters, this.roomIndex)) {
      this.producerBell!.ring();
      this.roomWakes++;
      if (this.stageCounters !== null) this.stageCounters.add(CommonCounter.ROOM_WAKES, 1);
    }
  }

  /**
   * Drains up to `limit` records into handler, then releases their space with one store.
   * Returns the number of records handled (padding not counted).
   */
  poll(handler: RecordHandler, limit: number): number {
    const tail = Atomics.load(this.counters, this.tailIndex) >>> 0;
    let head = this.head;
    if (head === tail) return 0;
    const view = this.view;
    let count = 0;
    while (head !== tail && count < limit) {
      const index = head & this.mask;
      const recordLength = view.getInt32(index + LENGTH_OFFSET, true);
      const typeId = view.getInt32(index + TYPE_OFFSET, true);
      if (!(recordLength >= HEADER_LENGTH && recordLength <= this.capacity - index)) {
        throw new Error(`Invariant: ring record length ${recordLength} at index ${index} is sane`);
      }
      head = (head + recordLength) >>> 0;
      if (typeId === PADDING_TYPE) continue;
      count++;
      handler.onRecord(typeId, index + HEADER_LENGTH, recordLength - HEADER_LENGTH);
    }
    this.release(head);
    this.recordsConsumed += count;
    return count;
  }

  /**
   * poll with a gate: drains up to `limit` records while handler.accept says yes, and stops at
   * the first it refuses, leaving it and all behind it in the ring (releasing only what was
   * consumed). Returns the number of records handled (padding not counted).
   */
  pollWhile(handler: GatedRecordHandler, limit: number): number {
    const tail = Atomics.load(this.counters, this.tailIndex) >>> 0;
    let head = this.head;
    if (head === tail) return 0;
    const view = this.view;
    let count = 0;
    while (head !== tail && count < limit) {
      const index = head & this.mask;
      const recordLength = view.getInt32(index + LENGTH_OFFSET, true);
      const typeId = view.getInt32(index + TYPE_OFFSET, true);
      if (!(recordLength >= HEADER_LENGTH && recordLength <= this.capacity - index)) {
        throw new Error(`Invariant: ring record length ${recordLength} at index ${index} is sane`);
      }
      if (typeId === PADDING_TYPE) {
        head = (head + recordLength) >>> 0;
        continue;
      }
      if (!handler.accept(typeId, index + HEADER_LENGTH, recordLength - HEADER_LENGTH)) break;
      head = (head + recordLength) >>> 0;
      count++;
      handler.onRecord(typeId, index + HEADER_LENGTH, recordLength - HEADER_LENGTH);
    }
    this.release(head);
    this.recordsConsumed += count;
    return count;
  }

  /** Publishes the head after a poll; only a release that freed room answers the producer (a poll with limit 0 frees none). */
  private release(head: number): void {
    if (head === this.head) return;
    this.head = head;
    Atomics.store(this.counters, this.headIndex, head | 0);
    if (this.producerBell !== null) this.answerRoomWait();
  }

  /**
   * True when a record stamped with `mark` may go: the gate is not armed, or its published value
   * is >= mark. When it is shut, flags WAITING so the publisher rings this consumer's doorbell on
   * its next publish, and looks once more (see the GATE drawing at the top). No allocation.
   */
  gatePasses(mark: number): boolean {
    if (mark <= this.gateCache) return true;
    const words = this.counters;
    const g = this.gateIndex;
    if (Atomics.load(words, g + GATE_ARMED) === 0) return true;
    this.gateCache = readGateValue(words, g);
    if (mark <= this.gateCache) return true;
    this.gateCache = flagGateWait(words, g);
    if (mark <= this.gateCache) return true;
    this.gateWaits++;
    return false;
  }

  /** True when records are waiting. */
  hasRecords(): boolean {
    return (Atomics.load(this.counters, this.tailIndex) >>> 0) !== this.head;
  }

  /** Records committed but not yet consumed, in bytes. */
  depthBytes(): number {
    return ((Atomics.load(this.counters, this.tailIndex) >>> 0) - this.head) >>> 0;
  }
}

/** HI then LO: never above the published value (the publisher stores LO then HI). */
function readGateValue(words: Int32Array, g: number): number {
  const hi = Atomics.load(words, g + GATE_VALUE_HI) >>> 0;
  const lo = Atomics.load(words, g + GATE_VALUE_LO) >>> 0;
  return hi * TWO_TO_32 + lo;
}

/**
 * Flags WAITING, then reads the value again: the order the gate's no-lost-wake argument rests on
 * (the GATE drawing at the top), shared by the consumer's gatePasses and a producer that leaves a
 * parked consumer to the gate (gateHolds). Returns the value read after the flag.
 */
function flagGateWait(words: Int32Array, g: number): number {
  Atomics.store(words, g + GATE_WAITING, 1);
  return readGateValue(words, g);
}

/**
 * The publisher of a ring's gate: a thread that is neither the ring's producer nor its consumer
 * (one publisher per gate). It arms the gate, then publishes values that only grow; each publish
 * rings the consumer's doorbell only when WAITING is flagged (by the consumer, or by the producer
 * for a parked consumer it left asleep).
 */
export class RingGate {
  private readonly words: Int32Array;
  private readonly g: number;
  private readonly doorbell: Doorbell | null;
  private value: number;
  /** Publishes that found WAITING flagged (and rang the consumer's doorbell). */
  wakeCount: number;

  constructor(memory: RingMemory, consumerDoorbell: Doorbell | null) {
    const views = new RingViews(memory);
    this.words = views.counters;
    this.g = views.gateIndex;
    this.doorbell = consumerDoorbell;
    this.value = readGateValue(views.counters, views.gateIndex);
    this.wakeCount = 0;
  }

  /** From now on marks above the published value wait. Call before any stamped record exists. */
  arm(): void {
    Atomics.store(this.words, this.g + GATE_ARMED, 1);
  }

  /** Every mark <= value passes from now on. Values never go back. */
  publish(value: number): void {
    if (!(Number.isInteger(value) && value >= this.value && value <= Number.MAX_SAFE_INTEGER)) {
      throw new Error(`Invariant: gate value ${value} is an integer >= ${this.value}`);
    }
    if (value === this.value) return;
    this.value = value;
    const words = this.words;
    const g = this.g;
    Atomics.store(words, g + GATE_VALUE_LO, (value >>> 0) | 0);
    Atomics.store(words, g + GATE_VALUE_HI, Math.floor(value / TWO_TO_32) | 0);
    if (takeFlag(words, g + GATE_WAITING)) {
      this.wakeCount++;
      if (this.doorbell !== null) this.doorbell.ring();
    }
  }

  /** The value last published by this object. */
  published(): number {
    return this.value;
  }
}
