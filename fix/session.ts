/**
 * FIX 4.4 session layer (FIX Session Protocol, FIXT-free 4.4 flavour), transport-agnostic.
 *
 * Bytes come in through onBytes(chunk) and go out through a FixTransport; time comes from an
 * injected clock and timers advance only when the owner calls onTimer(nowMs), so tests step the
 * whole protocol deterministically. Nothing is allocated per message on the normal path: one
 * parser flyweight, encoders for application / admin / resent messages, one bounded reassembly
 * buffer, a shared data-dictionary validator and a message store with preallocated buffers.
 *
 * What this session does (section numbers of the FIX 4.4 session spec, vol. 2):
 *   - Logon (35=A) as initiator or acceptor: CompID checks, EncryptMethod 98=0, HeartBtInt 108,
 *     ResetSeqNumFlag 141=Y on either side (both sequences and the message store start over).
 *     An invalid Logon (dictionary or session rules) gets a Logout and the connection is dropped.
 *   - Heartbeat on outbound silence; TestRequest on inbound silence; Logout + disconnect when
 *     the TestRequest is not answered within another heartbeat interval.
 *   - Inbound MsgSeqNum: too high -> ResendRequest for the closed range [expected, seq - 1], and
 *     the message is kept in a bounded queue and processed once the gap is filled;
 *     too low without PossDupFlag -> Logout and disconnect; too low with PossDupFlag=Y -> ignored.
 *     Our own ResendRequest times out (resendRequestTimeoutMs without progress): it is sent
 *     again, and after resendRequestMaxRetries the session logs out.
 *   - Data-dictionary validation (validator.ts) of every inbound message, admin and application,
 *     when `validate` is on (default): session-level problems get a Reject 35=3 (45, 371, 372,
 *     373, 58) and consume the sequence number; unsupported message types and conditionally
 *     required fields get a BusinessMessageReject 35=j (45, 372, 379, 380, 58). The application
 *     never sees an invalid message.
 *   - SendingTime accuracy: SendingTime farther than sendingTimeToleranceMs from our clock ->
 *     Reject 373=10, Logout, disconnect. PossDupFlag=Y without OrigSendingTime -> Reject 373=1
 *     (371=122); OrigSendingTime later than SendingTime -> Reject 373=10, Logout, disconnect.
 *   - Every message sent is recorded in a MessageStore (store.ts): application messages with
 *     their bytes, admin messages as markers. A ResendRequest is answered from the store: stored
 *     application messages are resent with PossDupFlag=Y and OrigSendingTime, admin messages,
 *     gaps and messages the store no longer holds become SequenceReset-GapFill (123=Y). EndSeqNo
 *     0 means "everything sent so far". The answer goes out in chunks (resendChunkMessages per
 *     onTimer tick) and pauses while the transport holds more than resendMaxBufferedBytes, so a
 *     request for a million messages neither floods the link nor grows memory, and other
 *     sessions are unaffected.
 *   - Sequence numbers persist in the store: a session built on a store that holds them resumes
 *     (ResetSeqNumFlag overrides). The owner calls flushStore() at the end of its batch; the
 *     session flushes after every input chunk, timer tick and disconnect.
 *   - SequenceReset: gap-fill mode obeys sequencing; reset mode (no 123=Y) ignores MsgSeqNum.
 *   - Logout both ways, with a logout timeout.
 *   - Session Reject (35=3) also for what the application rejects via rejectInbound().
 *   - Garbled frames (bad BeginString, BodyLength, CheckSum, syntax, BeginString/BodyLength/
 *     MsgType not first) are ignored: no sequence number is consumed, and the stream
 *     resynchronises on the next "8=FIX.4.4".
 *
 *   - Session schedule (session-schedule.ts, optional): outside a period the acceptor drops a
 *     Logon's connection and the initiator does not connect (FixInitiator asks inSchedule());
 *     a session still up when its period ends is logged out; a new period starts both sequence
 *     numbers at 1 (the store remembers which period its numbers belong to). Checked on every
 *     onTimer and at connect / Logon, with the clock passed in.
 *
 * Not done yet: choosing not to resend stale application messages (the spec allows gap-filling
 * them; every stored one is resent).
 */
import { copyBytes } from '../engine/bytes.ts';
import { SendResult, SessionError } from './fix-codes.ts';
import { FixEncoder, ascii } from './encoder.ts';
import { MsgType, isAdminMsgType, writeMsgType } from './msg-type.ts';
import { FixParser, MAX_FRAME_LENGTH, findNextBeginString } from './parser.ts';
import { SessionEvent, SessionState, sessionTransition } from './session-state.ts';
import { MemoryMessageStore, type MessageStore } from './store.ts';
import type { SessionSchedule } from './session-schedule.ts';
import { SessionRejectReason, Tag } from './tags.ts';
import { parseUtcTimestampMs } from './utc-time.ts';
import {
  BusinessRejectReason,
  FixValidator,
  VALIDATION_OK,
  ValidationKind,
  encodeValidation,
  validationKind,
  validationReason,
  validationRefTag,
} from './validator.ts';

/** Where a session writes its bytes. The TCP glue implements it; tests use an in-memory pipe. */
export interface FixTransport {
  /**
   * Queues buf[start, start + length) for sending, copying it (the session reuses its buffer at
   * once). Returns false, queueing nothing, when the transport's bounded buffer is full.
   */
  write(buf: Uint8Array, start: number, length: number): boolean;
  /** Flushes what was queued, then closes. The owner then calls session.onTransportClosed(). */
  close(): void;
  /** Bytes written and not yet handed to the network; resends pause while it is high. */
  bufferedBytes?(): number;
  /**
   * Stops (true) or resumes (false) reading the peer's bytes: they wait in the network's buffers
   * and flow control slows the peer, nothing is lost. A transport without it never pauses.
   */
  setInputPaused?(paused: boolean): void;
}

export interface FixClock {
  /** Milliseconds since the Unix epoch (UTC), integer. */
  now(): number;
}

/** What the session delivers to its owner. The parser is a flyweight valid only during the call. */
export interface FixApplication {
  /** An application message (not 0,1,2,3,4,5,A), in sequence. May call session.rejectInbound(). */
  onAppMessage(msg: FixParser, session: FixSession): void;
  /** A session-level Reject (35=3) from the counterparty: 45 RefSeqNum names our message. */
  onSessionReject(msg: FixParser, session: FixSession): void;
  /** After every state change (SessionState values). */
  onStateChange(session: FixSession, previous: number, next: number): void;
}

export const SessionRole = {
  INITIATOR: 1,
  ACCEPTOR: 2,
} as const;
export type SessionRole = (typeof SessionRole)[keyof typeof SessionRole];

export interface FixSessionOptions {
  /** Owner's small integer for this session (e.g. venue index), readable as session.id. Default 0. */
  id?: number;
  role: SessionRole;
  /** Our CompID (49 on what we send). */
  senderCompId: string;
  /** The counterparty's CompID (56 on what we send, 49 on what we receive). */
  targetCompId: string;
  clock: FixClock;
  app: FixApplication;
  /** Initiator: HeartBtInt (108) proposed at logon. Acceptor: ignored, it adopts the initiator's. Default 30. */
  heartBtIntSec?: number;
  /**
   * Initiator: send 141=Y and restart both sequences at 1 on every logon. Acceptor: restart both
   * sequences at 1 (and drop the stored messages) on every Logon received, answering with 141=Y,
   * whether or not the initiator asked (QuickFIX's ResetOnLogon). Default false.
   */
  resetSeqNumOnLogon?: boolean;
  /** Disconnect when the Logon exchange does not complete in time. Default 10,000. */
  logonTimeoutMs?: number;
  /** Disconnect when our Logout is not answered in time. Default 2,000. */
  logoutTimeoutMs?: number;
  /** Largest message we encode. Default 4096. */
  encoderCapacity?: number;
  /** Validate every inbound message against the FIX 4.4 dictionary. Default true. */
  validate?: boolean;
  /** The validator to use (sessions on one thread may share one). Default: one shared instance. */
  validator?: FixValidator;
  /**
   * Where sent messages and sequence numbers are kept. The session starts from its sequence
   * numbers. Default: a new MemoryMessageStore (last 4096 messages, nothing survives a restart).
   */
  store?: MessageStore;
  /** Messages (resent or gap fills) sent per resend step (each onTimer). Default 256. */
  resendChunkMessages?: number;
  /** A resend pauses while the transport buffers more than this. Default 256 KiB. */
  resendMaxBufferedBytes?: number;
  /** Largest accepted |SendingTime - now|; 0 disables the check. Default 120,000 (2 minutes). */
  sendingTimeToleranceMs?: number;
  /** Our ResendRequest is sent again after this long without progress; 0 never. Default 10,000. */
  resendRequestTimeoutMs?: number;
  /** Logout after this many unanswered repetitions of our ResendRequest. Default 3. */
  resendRequestMaxRetries?: number;
  /** Daily schedule (session-schedule.ts); null or absent: always open, no daily reset. */
  schedule?: SessionSchedule | null;
}

// Fixed texts for Logout (58), prepared once.
const TEXT_SEQ_TOO_LOW = ascii('MsgSeqNum too low');
const TEXT_SEQ_MISSING = ascii('MsgSeqNum missing or invalid');
const TEXT_BAD_LOGON = ascii('Invalid Logon: EncryptMethod must be 0 and HeartBtInt >= 0');
const TEXT_COMPID = ascii('CompID problem');
const TEXT_TEST_REQUEST = ascii('TestRequest not answered');
const TEXT_DUP_LOGON = ascii('Logon received while logged on');
const TEXT_RESET_SEQ = ascii('ResetSeqNumFlag requires MsgSeqNum 1');
const TEXT_OPERATOR = ascii('Logout');
const TEXT_INVALID_LOGON = ascii('Invalid Logon message');
const TEXT_SENDING_TIME = ascii('SendingTime accuracy problem');
const TEXT_ORIG_SENDING_TIME = ascii('OrigSendingTime later than SendingTime');
const TEXT_RESEND_TIMEOUT = ascii('ResendRequest not answered');
const TEXT_CONDITIONAL = ascii('Conditionally required field missing: tag ');
const TEXT_SCHEDULE_END = ascii('End of session schedule');

/** Text (58) of a session Reject, by SessionRejectReason (373); FIX 4.4 vol. 2 wording. */
const REJECT_TEXT: Uint8Array[] = [];
REJECT_TEXT[0] = ascii('Invalid tag number');
REJECT_TEXT[1] = ascii('Required tag missing');
REJECT_TEXT[2] = ascii('Tag not defined for this message type');
REJECT_TEXT[3] = ascii('Undefined tag');
REJECT_TEXT[4] = ascii('Tag specified without a value');
REJECT_TEXT[5] = ascii('Value is incorrect (out of range) for this tag');
REJECT_TEXT[6] = ascii('Incorrect data format for value');
REJECT_TEXT[9] = ascii('CompID problem');
REJECT_TEXT[10] = ascii('SendingTime accuracy problem');
REJECT_TEXT[11] = ascii('Invalid MsgType');
REJECT_TEXT[13] = ascii('Tag appears more than once');
REJECT_TEXT[14] = ascii('Tag specified out of required order');
REJECT_TEXT[15] = ascii('Repeating group fields out of order');
REJECT_TEXT[16] = ascii('Incorrect NumInGroup count for repeating group');
REJECT_TEXT[99] = ascii('Other');
const TEXT_UNSUPPORTED_TYPE = ascii('Unsupported message type');
const TEXT_BUSINESS_OTHER = ascii('Rejected');

/** One validator for every session of the thread: validate() is synchronous and not re-entered. */
let sharedValidator: FixValidator | null = null;
function defaultValidator(): FixValidator {
  if (sharedValidator === null) sharedValidator = new FixValidator();
  return sharedValidator;
}

/** Heartbeat grace before a TestRequest: 20% of the interval, as most engines do. */
const TEST_REQUEST_GRACE_PCT = 20;
/** Reassembly buffer: any incomplete frame (< MAX_FRAME_LENGTH) plus a full frame of new bytes. */
const INBOUND_CAPACITY = 2 * MAX_FRAME_LENGTH;
/** Messages held while a gap is being filled: count and bytes. Beyond that they are dropped (and re-requested later). */
const GAP_QUEUE_MAX_MESSAGES = 1024;
const GAP_QUEUE_BYTES = 4 * MAX_FRAME_LENGTH;
/** Sequence numbers scanned per gap fill while looking for the next stored message, per chunk message. */
const GAP_SCAN_PER_MESSAGE = 16;
/** Room for the PossDupFlag and OrigSendingTime a resent message gains. */
const RESEND_EXTRA_BYTES = 64;

/** Why sequence numbers were reset (seqResetListener). */
export const SeqResetCause = {
  /** ResetSeqNumFlag (141=Y) at Logon: asked by us or the counterparty, or resetOnLogon configured. */
  LOGON: 0,
  /** SequenceReset-Reset (35=4 without 123=Y) received: the inbound number jumped to NewSeqNo. */
  SEQUENCE_RESET: 1,
  /** A new period of the session's daily schedule began. */
  SCHEDULE: 2,
} as const;
export const SEQ_RESET_CAUSE_NAMES = ['logon', 'sequence-reset', 'schedule'] as const;

/** rejectListener kinds. */
export const REJECT_KIND_SESSION = 0;
export const REJECT_KIND_BUSINESS = 1;

export class FixSession {
  readonly id: number;
  readonly role: SessionRole;
  readonly senderCompId: string;
  readonly targetCompId: string;
  readonly senderCompIdBytes: Uint8Array;
  readonly targetCompIdBytes: Uint8Array;
  state: number;
  /** Heartbeat interval in force (negotiated at logon), ms; 0 disables heartbeats and test requests. */
  heartBtIntMs: number;
  /** Why we last went to DISCONNECTED, for logs. Constant strings except a received Logout's 58. */
  lastDisconnectReason: string;
  /** Owner hook (TCP glue): called after app.onStateChange. */
  stateListener: ((session: FixSession, previous: number, next: number) => void) | null;
  /**
   * Owner hook for logs: the sequence numbers were reset (SeqResetCause), newSeqNo = the next
   * MsgSeqNum expected from the counterparty afterwards. Rare events only; never per message.
   */
  seqResetListener: ((session: FixSession, cause: number, newSeqNo: number) => void) | null;
  /**
   * Owner hook for metrics: once per reject this session sends, kind REJECT_KIND_SESSION (35=3,
   * reason = SessionRejectReason 373) or REJECT_KIND_BUSINESS (35=j, reason = 380). Must not allocate.
   */
  rejectListener: ((session: FixSession, kind: number, reason: number) => void) | null;

  // Counters (read by the owner; shared-memory counters come with the fix worker).
  garbledCount: number;
  rejectSentCount: number;
  resendRequestSentCount: number;
  gapFillSentCount: number;
  heartbeatSentCount: number;
  testRequestSentCount: number;
  /** Messages beyond a gap that did not fit the gap queue (they will be asked for again). */
  gapQueueDroppedCount: number;
  /** Stored application messages resent (PossDupFlag=Y) in answer to ResendRequests. */
  resentCount: number;
  /** Largest transport backlog (bufferedBytes) seen right after a resend write: the resend's footprint. */
  resendBacklogMaxBytes: number;
  businessRejectSentCount: number;
  /** Where sent messages and sequence numbers are kept. */
  readonly store: MessageStore;
  /** Daily schedule, or null. */
  readonly schedule: SessionSchedule | null;
  /** Logons refused and connections not attempted because the schedule was closed. */
  scheduleRefusedCount: number;
  /** Sequence resets at the start of a new schedule period. */
  scheduleResetCount: number;

  readonly clock: FixClock;
  private readonly app: FixApplication;
  private readonly heartBtIntSecConfigured: number;
  private readonly resetSeqNumOnLogon: boolean;
  private readonly logonTimeoutMs: number;
  private readonly logoutTimeoutMs: number;
  private readonly parser: FixParser;
  private readonly appEncoder: FixEncoder;
  private readonly adminEncoder: FixEncoder;
  private readonly validator: FixValidator | null;
  private readonly sendingTimeToleranceMs: number;
  /** True while queued frames are processed again: their SendingTime was checked on arrival. */
  private replaying: boolean;
  // Answering a ResendRequest, in chunks: the next seq to answer (0 = none) and the last.
  private readonly resendParser: FixParser;
  private readonly resendEncoder: FixEncoder;
  private readonly resendChunkMessages: number;
  private readonly resendMaxBufferedBytes: number;
  private resendNext: number;
  private resendEnd: number;
  private resending: boolean;
  /** The store read last (its bytes are in store.readBuf while no record was added): seq, length. */
  private peekSeq: number;
  private peekLength: number;
  // Our own ResendRequest: when sent (or last progressed), how often repeated.
  private readonly resendRequestTimeoutMs: number;
  private readonly resendRequestMaxRetries: number;
  private resendRequestSentMs: number;
  private resendRequestRetries: number;
  private resendProgressSeq: number;
  private readonly inBuf: Uint8Array;
  private inLength: number;
  private receiving: boolean;
  private readonly deferredBuf: Uint8Array;
  private deferredLength: number;
  private transport: FixTransport | null;
  /** Reading from the peer is paused (setInputPaused), on this transport and the next. */
  private inputPaused: boolean;
  private nextOutSeq: number;
  private nextInSeq: number;
  private stateEnteredMs: number;
  private lastSentMs: number;
  private lastReceivedMs: number;
  private testRequestOutstanding: boolean;
  private testRequestSentMs: number;
  private testRequestCounter: number;
  /** 0, or the MsgSeqNum that revealed the gap we asked to be resent; cleared once passed. */
  private resendTargetSeq: number;
  /** Sequence number written into the open application message, or 0. */
  private appSeq: number;
  /** SendingTime of the open application message. */
  private appTimeMs: number;
  /** During onAppMessage: the inbound message's seq (for rejectInbound); 0 otherwise. */
  private inboundSeq: number;
  private inboundRejected: boolean;
  // Gap queue: frames (or zero-length "already processed" markers) that arrived beyond a gap,
  // in arrival order, copied into one linear byte area that is reset whenever the queue empties.
  private readonly gapBytes: Uint8Array;
  private readonly gapSeq: Int32Array;
  private readonly gapStart: Int32Array;
  private readonly gapLength: Int32Array;
  private gapHead: number;
  private gapCount: number;
  private gapBytesUsed: number;

  constructor(options: FixSessionOptions) {
    if (options.role !== SessionRole.INITIATOR && options.role !== SessionRole.ACCEPTOR) throw new Error('Condition failed: role');
    if (options.senderCompId.length === 0 || options.targetCompId.length === 0) throw new Error('Condition failed: CompIDs non-empty');
    const hb = options.heartBtIntSec ?? 30;
    if (!(Number.isInteger(hb) && hb >= 0 && hb <= 3600)) throw new Error('Condition failed: heartBtIntSec in 0..3600');
    this.id = options.id ?? 0;
    this.role = options.role;
    this.senderCompId = options.senderCompId;
    this.targetCompId = options.targetCompId;
    this.senderCompIdBytes = ascii(options.senderCompId);
    this.targetCompIdBytes = ascii(options.targetCompId);
    this.state = SessionState.DISCONNECTED;
    this.heartBtIntMs = hb * 1000;
    this.lastDisconnectReason = '';
    this.stateListener = null;
    this.seqResetListener = null;
    this.rejectListener = null;
    this.garbledCount = 0;
    this.rejectSentCount = 0;
    this.resendRequestSentCount = 0;
    this.gapFillSentCount = 0;
    this.heartbeatSentCount = 0;
    this.testRequestSentCount = 0;
    this.gapQueueDroppedCount = 0;
    this.resentCount = 0;
    this.resendBacklogMaxBytes = 0;
    this.businessRejectSentCount = 0;
    this.store = options.store ?? new MemoryMessageStore();
    this.schedule = options.schedule ?? null;
    this.scheduleRefusedCount = 0;
    this.scheduleResetCount = 0;
    this.clock = options.clock;
    this.app = options.app;
    this.heartBtIntSecConfigured = hb;
    this.resetSeqNumOnLogon = options.resetSeqNumOnLogon ?? false;
    this.logonTimeoutMs = options.logonTimeoutMs ?? 10_000;
    this.logoutTimeoutMs = options.logoutTimeoutMs ?? 2_000;
    this.parser = new FixParser();
    this.appEncoder = new FixEncoder(options.encoderCapacity);
    this.adminEncoder = new FixEncoder(options.encoderCapacity);
    this.validator = options.validate === false ? null : (options.validator ?? defaultValidator());
    this.sendingTimeToleranceMs = nonNegative(options.sendingTimeToleranceMs, 120_000, 'sendingTimeToleranceMs');
    this.replaying = false;
    this.resendParser = new FixParser();
    this.resendEncoder = new FixEncoder((options.encoderCapacity ?? 4096) + RESEND_EXTRA_BYTES);
    this.resendChunkMessages = positive(options.resendChunkMessages, 256, 'resendChunkMessages');
    this.resendMaxBufferedBytes = positive(options.resendMaxBufferedBytes, 256 * 1024, 'resendMaxBufferedBytes');
    this.resendNext = 0;
    this.resendEnd = 0;
    this.resending = false;
    this.peekSeq = 0;
    this.peekLength = 0;
    this.resendRequestTimeoutMs = nonNegative(options.resendRequestTimeoutMs, 10_000, 'resendRequestTimeoutMs');
    this.resendRequestMaxRetries = nonNegative(options.resendRequestMaxRetries, 3, 'resendRequestMaxRetries');
    this.resendRequestSentMs = 0;
    this.resendRequestRetries = 0;
    this.resendProgressSeq = 0;
    this.inBuf = new Uint8Array(INBOUND_CAPACITY);
    this.inLength = 0;
    this.receiving = false;
    this.deferredBuf = new Uint8Array(INBOUND_CAPACITY);
    this.deferredLength = 0;
    this.transport = null;
    this.inputPaused = false;
    // A store that survived a restart brings the session back where it was.
    this.nextOutSeq = this.store.nextSenderSeqNum;
    this.nextInSeq = this.store.nextTargetSeqNum;
    this.stateEnteredMs = 0;
    this.lastSentMs = 0;
    this.lastReceivedMs = 0;
    this.testRequestOutstanding = false;
    this.testRequestSentMs = 0;
    this.testRequestCounter = 0;
    this.resendTargetSeq = 0;
    this.appSeq = 0;
    this.appTimeMs = 0;
    this.inboundSeq = 0;
    this.inboundRejected = false;
    this.gapBytes = new Uint8Array(GAP_QUEUE_BYTES);
    this.gapSeq = new Int32Array(GAP_QUEUE_MAX_MESSAGES);
    this.gapStart = new Int32Array(GAP_QUEUE_MAX_MESSAGES);
    this.gapLength = new Int32Array(GAP_QUEUE_MAX_MESSAGES);
    this.gapHead = 0;
    this.gapCount = 0;
    this.gapBytesUsed = 0;
  }

  // ---------------------------------------------------------------- sequence numbers

  /** MsgSeqNum of the next message we send. */
  get nextSenderSeqNum(): number {
    return this.nextOutSeq;
  }

  /** MsgSeqNum we expect next from the counterparty. */
  get nextTargetSeqNum(): number {
    return this.nextInSeq;
  }

  /** Sets the next outbound MsgSeqNum (recovery from the journal; tests). */
  setNextSenderSeqNum(seq: number): void {
    if (!(Number.isSafeInteger(seq) && seq >= 1)) throw new Error('Condition failed: seq >= 1');
    if (this.appSeq !== 0) throw new Error('Condition failed: no application message open');
    this.nextOutSeq = seq;
    this.store.setNextSenderSeqNum(seq);
  }

  /** Sets the next expected inbound MsgSeqNum (recovery from the journal; tests). */
  setNextTargetSeqNum(seq: number): void {
    if (!(Number.isSafeInteger(seq) && seq >= 1)) throw new Error('Condition failed: seq >= 1');
    this.nextInSeq = seq;
    this.store.setNextTargetSeqNum(seq);
  }

  /** Hands the sequence numbers to the store and makes it durable (call at the end of a batch). */
  flushStore(): void {
    this.store.setNextTargetSeqNum(this.nextInSeq);
    this.store.flush();
  }

  /** The store's writeAhead(): the transport calls it before handing sent bytes to the socket. */
  writeAheadStore(): void {
    this.store.writeAhead();
  }

  /** True when application messages may be sent. */
  get isLoggedOn(): boolean {
    return this.state === SessionState.ACTIVE;
  }

  /**
   * True while inbound recovery is under way: our ResendRequest is outstanding or messages
   * beyond a gap wait in the queue. An owner reconciling after a reconnect waits for false.
   */
  get recovering(): boolean {
    return this.resendTargetSeq !== 0 || this.gapHead < this.gapCount;
  }

  /** Both sequence numbers back to 1 and the stored messages dropped. Before any Logon only. */
  resetSequenceNumbers(): void {
    if (!this.beforeLogon()) throw new Error('Condition failed: reset only before a Logon');
    this.store.reset();
    this.nextOutSeq = 1;
    this.nextInSeq = 1;
    this.peekSeq = 0;
  }

  // ---------------------------------------------------------------- schedule

  /** True when the schedule (if any) is open at nowMs; applies a new period's reset when disconnected. */
  inSchedule(nowMs: number): boolean {
    if (this.schedule === null) return true;
    const period = this.schedule.periodAt(nowMs);
    if (period < 0) return false;
    const known = this.store.periodStartMs;
    if (known === period) return true;
    if (!this.beforeLogon()) return false; // the period changed under a live session
    // A store that knows no period adopts this one (sequence numbers kept); a later period resets.
    if (known !== 0) {
      this.resetSequenceNumbers();
      this.scheduleResetCount++;
      if (this.seqResetListener !== null) this.seqResetListener(this, SeqResetCause.SCHEDULE, 1);
    }
    this.store.setPeriodStartMs(period);
    return true;
  }

  /** Disconnected, or an acceptor's connection whose Logon is not processed yet. */
  private beforeLogon(): boolean {
    return this.state === SessionState.DISCONNECTED || (this.state === SessionState.CONNECTED && this.role === SessionRole.ACCEPTOR);
  }

  /**
   * Timer side of the schedule: a live session whose period ended is logged out (or dropped); a
   * disconnected one moves to a new period (its reset) as soon as the period begins.
   */
  private applySchedule(nowMs: number): void {
    if (this.inSchedule(nowMs) || this.beforeLogon()) return;
    if (this.state === SessionState.ACTIVE) {
      this.transitionTo(SessionEvent.LOGOUT_SEND, nowMs);
      this.sendLogout(TEXT_SCHEDULE_END);
    } else if (this.state !== SessionState.LOGOUT_SENT) {
      this.disconnect('outside session schedule');
    }
  }

  // ---------------------------------------------------------------- transport events

  /** A transport is up. The initiator sends its Logon at once; the acceptor waits for one. */
  onConnected(transport: FixTransport): number {
    if (this.state !== SessionState.DISCONNECTED) return SessionError.ILLEGAL_TRANSITION;
    const now = this.clock.now();
    if (this.role === SessionRole.INITIATOR && !this.inSchedule(now)) {
      this.scheduleRefusedCount++;
      transport.close();
      return SessionError.ILLEGAL_TRANSITION;
    }
    this.transport = transport;
    if (this.inputPaused && transport.setInputPaused !== undefined) transport.setInputPaused(true);
    this.inLength = 0;
    this.lastSentMs = now;
    this.lastReceivedMs = now;
    this.testRequestOutstanding = false;
    this.resendTargetSeq = 0;
    this.transitionTo(SessionEvent.CONNECT, now);
    if (this.role === SessionRole.INITIATOR) {
      this.heartBtIntMs = this.heartBtIntSecConfigured * 1000;
      if (this.resetSeqNumOnLogon) {
        this.store.reset();
        this.nextOutSeq = 1;
        this.nextInSeq = 1;
        if (this.seqResetListener !== null) this.seqResetListener(this, SeqResetCause.LOGON, 1);
      }
      // State first, then bytes: a transport may deliver the answer before write() returns.
      this.transitionTo(SessionEvent.LOGON_SEND, now);
      this.sendLogon(this.resetSeqNumOnLogon);
    }
    return 0;
  }

  /**
   * Stops (true) or resumes (false) reading from the peer, on this transport and on the next ones
   * until resumed: for an owner whose consumers lag (workers/fix/fix-stage.ts). Bytes already
   * read are still delivered. A pause longer than the peer's heartbeat interval ends, as any
   * silence does, in a TestRequest and then a disconnect; the resend after the next logon loses
   * nothing.
   */
  setInputPaused(paused: boolean): void {
    this.inputPaused = paused;
    if (this.transport !== null && this.transport.setInputPaused !== undefined) this.transport.setInputPaused(paused);
  }

  /**
   * The transport closed (by either side). Ignored when `transport` is not the one attached (a
   * late close of an earlier connection must not drop the current one). Idempotent.
   */
  onTransportClosed(transport: FixTransport): void {
    if (this.state === SessionState.DISCONNECTED || transport !== this.transport) return;
    this.transport = null;
    this.disconnect('transport closed');
  }

  /** True when `transport` is the one this session reads from and writes to. */
  isAttachedTo(transport: FixTransport): boolean {
    return this.transport === transport;
  }

  /**
   * Bytes from the transport. Frames are parsed straight from `chunk` when nothing is buffered;
   * only an incomplete tail is copied into the bounded reassembly buffer. Allocates nothing.
   *
   * Re-entrant calls (a transport that delivers synchronously, so our own send inside this call
   * brings the peer's answer back) are copied into a bounded deferred buffer and processed after
   * the current chunk, which keeps byte order and keeps the parser flyweight stable for the app.
   */
  onBytes(chunk: Uint8Array, start: number = 0, end: number = chunk.length): void {
    if (this.transport === null) return;
    if (this.receiving) {
      this.defer(chunk, start, end);
      return;
    }
    this.receiving = true;
    try {
      this.receive(chunk, start, end);
      while (this.deferredLength > 0 && this.transport !== null) {
        const n = this.deferredLength;
        this.receive(this.deferredBuf, 0, n); // appends beyond n may happen meanwhile
        this.deferredBuf.copyWithin(0, n, this.deferredLength);
        this.deferredLength -= n;
      }
    } finally {
      this.receiving = false;
      if (this.transport === null) this.deferredLength = 0;
      this.flushStore();
    }
  }

  private defer(chunk: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.deferredLength + n > this.deferredBuf.length) {
      this.disconnect('re-entrant input overflow');
      return;
    }
    copyBytes(chunk, start, this.deferredBuf, this.deferredLength, n);
    this.deferredLength += n;
  }

  private receive(chunk: Uint8Array, start: number, end: number): void {
    let p = start;
    if (this.inLength === 0) p = this.drain(chunk, start, end);
    while (p < end && this.transport !== null) {
      const space = this.inBuf.length - this.inLength;
      const n = end - p < space ? end - p : space;
      if (n <= 0) throw new Error('Invariant: reassembly buffer always has room for a frame');
      copyBytes(chunk, p, this.inBuf, this.inLength, n);
      this.inLength += n;
      p += n;
      const consumed = this.drain(this.inBuf, 0, this.inLength);
      if (consumed > 0) {
        this.inBuf.copyWithin(0, consumed, this.inLength);
        this.inLength -= consumed;
      }
    }
    if (this.transport === null) this.inLength = 0;
  }

  /** Parses every complete frame in buf[start, end); returns where parsing stopped. */
  private drain(buf: Uint8Array, start: number, end: number): number {
    let p = start;
    while (p < end && this.transport !== null) {
      const r = this.parser.parse(buf, p, end);
      if (r === 0) break; // incomplete: the caller keeps buf[p, end) for the next bytes
      if (r > 0) {
        p += r;
        this.onFrame();
        if (this.gapHead < this.gapCount) this.processGapQueue();
        continue;
      }
      // Garbled: ignore it, consume no sequence number, resynchronise (FIX session spec: garbled
      // messages are ignored, and a later gap or TestRequest recovers anything lost with them).
      this.garbledCount++;
      p = this.parser.frameEnd > p ? this.parser.frameEnd : findNextBeginString(buf, p + 1, end);
    }
    return p;
  }

  // ---------------------------------------------------------------- timers

  /**
   * Advances timers to nowMs: heartbeats, test requests, logon and logout timeouts, the timeout of
   * our ResendRequest; sends the next chunk of a resend in progress; flushes the store.
   */
  onTimer(nowMs: number): void {
    if (this.schedule !== null) this.applySchedule(nowMs);
    switch (this.state) {
      case SessionState.CONNECTED:
      case SessionState.LOGON_SENT:
        if (nowMs - this.stateEnteredMs >= this.logonTimeoutMs) this.disconnect('logon timeout');
        break;
      case SessionState.ACTIVE:
        this.activeTimers(nowMs);
        break;
      case SessionState.LOGOUT_SENT:
        if (nowMs - this.stateEnteredMs >= this.logoutTimeoutMs) this.disconnect('logout timeout');
        break;
      default:
        break;
    }
    this.flushStore();
  }

  private activeTimers(nowMs: number): void {
    if (this.resendNext !== 0) this.pumpResend();
    if (this.resendTargetSeq !== 0 && !this.checkOwnResendRequest(nowMs)) return;
    this.heartbeatTimers(nowMs);
  }

  /**
   * Our ResendRequest is outstanding: asks again after resendRequestTimeoutMs without progress,
   * logs out after resendRequestMaxRetries. False when the session ended.
   */
  private checkOwnResendRequest(nowMs: number): boolean {
    if (this.resendRequestTimeoutMs === 0) return true;
    if (this.nextInSeq !== this.resendProgressSeq) {
      this.resendProgressSeq = this.nextInSeq;
      this.resendRequestSentMs = nowMs;
      return true;
    }
    if (nowMs - this.resendRequestSentMs < this.resendRequestTimeoutMs) return true;
    if (this.resendRequestRetries >= this.resendRequestMaxRetries) {
      this.logoutAndDisconnect(TEXT_RESEND_TIMEOUT, 'ResendRequest not answered');
      return false;
    }
    this.resendRequestRetries++;
    this.sendResendRequest(this.resendTargetSeq);
    return true;
  }

  private heartbeatTimers(nowMs: number): void {
    const hb = this.heartBtIntMs;
    if (hb === 0) return;
    if (this.testRequestOutstanding) {
      if (nowMs - this.testRequestSentMs >= hb) {
        this.logoutAndDisconnect(TEXT_TEST_REQUEST, 'test request not answered');
        return;
      }
    } else if (nowMs - this.lastReceivedMs >= hb + (hb * TEST_REQUEST_GRACE_PCT) / 100) {
      this.sendTestRequest(nowMs);
      return;
    }
    if (nowMs - this.lastSentMs >= hb) this.sendHeartbeat(null);
  }

  // ---------------------------------------------------------------- application API

  /**
   * Starts an application message with the header filled in (35, 49, 56, 34, 52). Add the body
   * through the returned encoder, then call sendApp(). Allocates nothing.
   */
  beginApp(msgType: number): FixEncoder {
    if (isAdminMsgType(msgType)) throw new Error('Condition failed: beginApp is for application messages');
    this.appSeq = this.nextOutSeq;
    // One clock read per message: a `now(): number` returning epoch ms boxes a double in V8.
    this.appTimeMs = this.clock.now();
    return this.appEncoder.begin(msgType, this.senderCompIdBytes, this.targetCompIdBytes, this.appSeq, this.appTimeMs);
  }

  /**
   * Sends the message begun by beginApp. Returns SendResult.OK, NOT_LOGGED_ON or BACK_PRESSURE;
   * on failure nothing is sent and no sequence number is consumed.
   */
  sendApp(): number {
    if (this.appSeq !== this.nextOutSeq) throw new Error('Invariant: sendApp follows beginApp with no send in between');
    const length = this.appEncoder.finish();
    this.appSeq = 0;
    if (this.state !== SessionState.ACTIVE || this.transport === null) return SendResult.NOT_LOGGED_ON;
    return this.write(this.appEncoder, length, this.appTimeMs, true) ? SendResult.OK : SendResult.BACK_PRESSURE;
  }

  /**
   * Like sendApp, but a message that cannot go out now (not logged on, or the transport is full)
   * is still recorded in the store under the next MsgSeqNum, which it consumes. The counterparty
   * sees the gap at its next message from us (our Logon after a reconnect, or a Heartbeat) and
   * asks for it with a ResendRequest, answered from the store: a report is delayed, never lost
   * (unless the next logon resets the sequence numbers). Returns SendResult.OK or STORED.
   * Allocates nothing.
   */
  sendAppOrStore(): number {
    if (this.appSeq !== this.nextOutSeq) throw new Error('Invariant: sendAppOrStore follows beginApp with no send in between');
    const length = this.appEncoder.finish();
    this.appSeq = 0;
    if (this.state === SessionState.ACTIVE && this.transport !== null && this.write(this.appEncoder, length, this.appTimeMs, true)) return SendResult.OK;
    const seq = this.nextOutSeq;
    this.nextOutSeq = seq + 1;
    this.peekSeq = 0;
    this.store.record(seq, this.appEncoder.buf, this.appEncoder.start, length);
    return SendResult.STORED;
  }

  /**
   * Rejects the inbound message being delivered (valid only inside onAppMessage) with a session
   * Reject 35=3: 45 RefSeqNum, 372 RefMsgType, 373 reason, 371 refTagId (omitted when 0).
   */
  rejectInbound(reason: number, refTagId: number): void {
    if (this.inboundSeq === 0) throw new Error('Condition failed: rejectInbound only inside onAppMessage');
    if (this.inboundRejected) return;
    this.inboundRejected = true;
    this.sendReject(this.inboundSeq, this.parser.msgType, reason, refTagId);
  }

  /**
   * Refuses the inbound message being delivered (valid only inside onAppMessage) with a
   * BusinessMessageReject 35=j (45, 372, 379 = its ClOrdID when present, 380 reason, 58).
   */
  rejectInboundBusiness(reason: number, refTagId: number): void {
    if (this.inboundSeq === 0) throw new Error('Condition failed: rejectInboundBusiness only inside onAppMessage');
    if (this.inboundRejected) return;
    this.inboundRejected = true;
    this.sendBusinessReject(this.inboundSeq, this.parser.msgType, reason, refTagId);
  }

  /** Starts a graceful logout (ACTIVE only): Logout now, disconnect on reply or logout timeout. */
  logout(): number {
    if (this.state !== SessionState.ACTIVE) return SessionError.ILLEGAL_TRANSITION;
    this.transitionTo(SessionEvent.LOGOUT_SEND, this.clock.now());
    this.sendLogout(TEXT_OPERATOR);
    return 0;
  }

  /** Drops the transport at once (no Logout). Idempotent. */
  disconnect(reason: string): void {
    if (this.state === SessionState.DISCONNECTED) return;
    this.lastDisconnectReason = reason;
    const transport = this.transport;
    this.transport = null;
    this.inLength = 0;
    this.testRequestOutstanding = false;
    this.resendTargetSeq = 0;
    this.resendNext = 0;
    this.clearGapQueue();
    this.flushStore();
    this.transitionTo(SessionEvent.DISCONNECT, this.clock.now());
    if (transport !== null) transport.close();
  }

  // ---------------------------------------------------------------- inbound processing

  /** One well-framed message is in the parser. */
  private onFrame(): void {
    const m = this.parser;
    const type = m.msgType;
    this.lastReceivedMs = this.clock.now();
    // Any message proves the counterparty alive, so it answers an outstanding TestRequest too.
    this.testRequestOutstanding = false;
    if (this.state === SessionState.CONNECTED || this.state === SessionState.LOGON_SENT) {
      if (type === MsgType.LOGOUT && this.state === SessionState.LOGON_SENT) {
        this.onLogoutReceived();
        return;
      }
      // The first message must be a Logon; anything else is dropped with the connection.
      if (type !== MsgType.LOGON) {
        this.disconnect('first message not Logon');
        return;
      }
    }
    if (!m.equalsAscii(Tag.SenderCompID, this.targetCompIdBytes) || !m.equalsAscii(Tag.TargetCompID, this.senderCompIdBytes)) {
      this.onCompIdProblem();
      return;
    }
    const seq = m.getInt(Tag.MsgSeqNum);
    if (seq <= 0) {
      this.logoutAndDisconnect(TEXT_SEQ_MISSING, 'MsgSeqNum missing');
      return;
    }
    if (!this.replaying && !this.sendingTimeAccurate()) {
      this.onSendingTimeProblem(seq, type);
      return;
    }
    if (type === MsgType.LOGON) {
      this.onLogon(seq);
      return;
    }
    if (type === MsgType.SEQUENCE_RESET && m.getChar(Tag.GapFillFlag) !== 0x59) {
      this.onSequenceResetReset(seq);
      return;
    }
    if (seq > this.nextInSeq) {
      this.onSeqTooHigh(seq, type);
      return;
    }
    if (seq < this.nextInSeq) {
      if (m.getChar(Tag.PossDupFlag) === 0x59) return; // a duplicate we already processed
      this.logoutAndDisconnect(TEXT_SEQ_TOO_LOW, 'MsgSeqNum too low');
      return;
    }
    this.onInSequence(seq, type);
  }

  /** seq is exactly what we expected. */
  private onInSequence(seq: number, type: number): void {
    const m = this.parser;
    if (type === MsgType.SEQUENCE_RESET) {
      this.onGapFill(seq);
      return;
    }
    this.nextInSeq = seq + 1;
    this.closeResendIfDone();
    if (!this.acceptInbound(seq, type)) return;
    switch (type) {
      case MsgType.HEARTBEAT:
        return;
      case MsgType.TEST_REQUEST:
        this.onTestRequest(seq);
        return;
      case MsgType.RESEND_REQUEST:
        this.answerResendRequest(seq);
        return;
      case MsgType.REJECT:
        this.app.onSessionReject(m, this);
        return;
      case MsgType.LOGOUT:
        this.onLogoutReceived();
        return;
      default:
        this.deliverApp(seq);
    }
  }

  /**
   * Dictionary validation, then the PossDup rules, of the in-sequence message seq (its number is
   * consumed already). Rejects it (35=3 or 35=j) and returns false when it must not be processed.
   */
  private acceptInbound(seq: number, type: number): boolean {
    const r = this.inboundFailure();
    if (r !== VALIDATION_OK) {
      this.rejectInvalid(seq, type, r);
      return false;
    }
    return this.possDupAccepted(seq, type);
  }

  /** The validator's verdict, or (validation off) the few checks the session cannot do without. */
  private inboundFailure(): number {
    const m = this.parser;
    if (this.validator !== null) return this.validator.validate(m);
    if (m.emptyValueTag !== 0) return encodeValidation(ValidationKind.SESSION_REJECT, SessionRejectReason.TAG_WITHOUT_VALUE, m.emptyValueTag);
    if (!m.has(Tag.SendingTime)) return encodeValidation(ValidationKind.SESSION_REJECT, SessionRejectReason.REQUIRED_TAG_MISSING, Tag.SendingTime);
    return VALIDATION_OK;
  }

  private rejectInvalid(seq: number, type: number, result: number): void {
    if (validationKind(result) === ValidationKind.BUSINESS_REJECT) {
      this.sendBusinessReject(seq, type, validationReason(result), validationRefTag(result));
    } else {
      this.sendReject(seq, type, validationReason(result), validationRefTag(result));
    }
  }

  /**
   * PossDupFlag=Y (vol. 2, "PossDupFlag"): OrigSendingTime is required (SequenceReset excepted, as
   * most engines send gap fills without it), and may not be later than SendingTime.
   */
  private possDupAccepted(seq: number, type: number): boolean {
    const m = this.parser;
    if (m.getChar(Tag.PossDupFlag) !== 0x59) return true;
    const origStart = m.valueStart(Tag.OrigSendingTime);
    if (origStart < 0) {
      if (type === MsgType.SEQUENCE_RESET) return true;
      this.sendReject(seq, type, SessionRejectReason.REQUIRED_TAG_MISSING, Tag.OrigSendingTime);
      return false;
    }
    const orig = parseUtcTimestampMs(m.buf, origStart, m.valueEnd(Tag.OrigSendingTime));
    const sent = parseUtcTimestampMs(m.buf, m.valueStart(Tag.SendingTime), m.valueEnd(Tag.SendingTime));
    if (orig < 0 || sent < 0 || orig <= sent) return true;
    this.sendReject(seq, type, SessionRejectReason.SENDING_TIME_ACCURACY, Tag.OrigSendingTime);
    this.logoutAndDisconnect(TEXT_ORIG_SENDING_TIME, 'OrigSendingTime later than SendingTime');
    return false;
  }

  /** SendingTime within sendingTimeToleranceMs of our clock (absent or malformed: validation's job). */
  private sendingTimeAccurate(): boolean {
    const tolerance = this.sendingTimeToleranceMs;
    if (tolerance === 0) return true;
    const m = this.parser;
    const start = m.valueStart(Tag.SendingTime);
    if (start < 0) return true;
    const t = parseUtcTimestampMs(m.buf, start, m.valueEnd(Tag.SendingTime));
    if (t < 0) return true;
    const skew = t - this.lastReceivedMs;
    return skew <= tolerance && skew >= -tolerance;
  }

  /** vol. 2: Reject 373=10 (consuming the number when in sequence), Logout, disconnect. */
  private onSendingTimeProblem(seq: number, type: number): void {
    if (this.state === SessionState.ACTIVE) {
      this.sendReject(seq, type, SessionRejectReason.SENDING_TIME_ACCURACY, Tag.SendingTime);
      if (seq === this.nextInSeq) this.nextInSeq = seq + 1;
    }
    this.logoutAndDisconnect(TEXT_SENDING_TIME, 'SendingTime accuracy problem');
  }

  private deliverApp(seq: number): void {
    this.inboundSeq = seq;
    this.inboundRejected = false;
    try {
      this.app.onAppMessage(this.parser, this);
    } finally {
      this.inboundSeq = 0;
    }
  }

  /** Gap detected: keep this message for later and ask for the missing range (once per gap). */
  private onSeqTooHigh(seq: number, type: number): void {
    // FIX: a ResendRequest or Logout is honoured at once even when it reveals a gap.
    if (type === MsgType.LOGOUT) {
      this.onLogoutReceived();
      return;
    }
    if (type === MsgType.RESEND_REQUEST) {
      this.answerResendRequest(seq);
      this.enqueueGap(seq, this.parser.buf, 0, 0); // processed: only its number is still to pass
    } else {
      this.enqueueGap(seq, this.parser.buf, this.parser.frameStart, this.parser.frameEnd - this.parser.frameStart);
    }
    if (this.resendTargetSeq === 0) this.sendResendRequest(seq);
  }

  /** Copies a frame (or, with length 0, a marker) into the gap queue; drops it when full. */
  private enqueueGap(seq: number, buf: Uint8Array, start: number, length: number): void {
    if (this.gapCount === GAP_QUEUE_MAX_MESSAGES || this.gapBytesUsed + length > GAP_QUEUE_BYTES) {
      this.gapQueueDroppedCount++;
      return;
    }
    const at = this.gapBytesUsed;
    copyBytes(buf, start, this.gapBytes, at, length);
    this.gapBytesUsed += length;
    this.gapSeq[this.gapCount] = seq;
    this.gapStart[this.gapCount] = at;
    this.gapLength[this.gapCount] = length;
    this.gapCount++;
  }

  /** Processes queued messages that are now in sequence; drops those a gap fill jumped over. */
  private processGapQueue(): void {
    while (this.gapHead < this.gapCount && this.transport !== null) {
      const i = this.gapHead;
      const seq = this.gapSeq[i];
      if (seq > this.nextInSeq) break;
      this.gapHead++;
      if (seq < this.nextInSeq) continue;
      const length = this.gapLength[i];
      if (length === 0) {
        this.nextInSeq = seq + 1;
        this.closeResendIfDone();
        continue;
      }
      const start = this.gapStart[i];
      if (this.parser.parse(this.gapBytes, start, start + length) !== length) throw new Error('Invariant: a queued frame parses again');
      this.replaying = true;
      try {
        this.onFrame();
      } finally {
        this.replaying = false;
      }
    }
    if (this.gapHead === this.gapCount) this.clearGapQueue();
  }

  private clearGapQueue(): void {
    this.gapHead = 0;
    this.gapCount = 0;
    this.gapBytesUsed = 0;
  }

  /** The range we asked for is behind us: a new gap may be requested again. */
  private closeResendIfDone(): void {
    if (this.resendTargetSeq !== 0 && this.nextInSeq >= this.resendTargetSeq) {
      this.resendTargetSeq = 0;
      this.resendRequestRetries = 0;
    }
  }

  private onLogon(seq: number): void {
    if (this.state === SessionState.ACTIVE || this.state === SessionState.LOGOUT_SENT) {
      this.logoutAndDisconnect(TEXT_DUP_LOGON, 'Logon while logged on');
      return;
    }
    const m = this.parser;
    if (this.inboundFailure() !== VALIDATION_OK) {
      this.logoutAndDisconnect(TEXT_INVALID_LOGON, 'invalid Logon');
      return;
    }
    if (this.role === SessionRole.ACCEPTOR && !this.inSchedule(this.clock.now())) {
      // Outside the schedule a Logon is refused by dropping the connection (no sequence number used).
      this.scheduleRefusedCount++;
      this.disconnect('Logon outside session schedule');
      return;
    }
    const heartBtInt = m.getInt(Tag.HeartBtInt);
    if (m.getInt(Tag.EncryptMethod) !== 0 || heartBtInt < 0 || heartBtInt > 3600) {
      this.logoutAndDisconnect(TEXT_BAD_LOGON, 'invalid Logon');
      return;
    }
    const requested = m.getChar(Tag.ResetSeqNumFlag) === 0x59;
    if (requested) {
      if (seq !== 1) {
        this.logoutAndDisconnect(TEXT_RESET_SEQ, 'ResetSeqNumFlag with MsgSeqNum != 1');
        return;
      }
      this.nextInSeq = 1;
    }
    // An acceptor configured to reset on logon starts over whatever the initiator sent; a Logon
    // numbered above 1 then reveals a gap, asked for below like any other.
    const acceptorReset = this.role === SessionRole.ACCEPTOR && this.resetSeqNumOnLogon;
    if (acceptorReset) this.nextInSeq = 1;
    const reset = requested || acceptorReset;
    if (seq < this.nextInSeq) {
      this.logoutAndDisconnect(TEXT_SEQ_TOO_LOW, 'Logon MsgSeqNum too low');
      return;
    }
    const now = this.clock.now();
    if (this.role === SessionRole.ACCEPTOR) {
      this.heartBtIntMs = heartBtInt * 1000;
      if (reset) {
        // The counterparty asked both sides to restart at 1: the stored messages go too.
        this.store.reset();
        this.nextOutSeq = 1;
        if (this.seqResetListener !== null) this.seqResetListener(this, SeqResetCause.LOGON, 1);
      }
      // Our Logon goes out before the state change: an owner that sends application messages
      // when the session turns ACTIVE (a venue's market-data snapshot) must not precede it. Bytes
      // a synchronous transport brings back meanwhile are deferred (we are inside onBytes).
      this.sendLogon(reset);
      this.transitionTo(SessionEvent.LOGON_ACCEPT, now);
    } else {
      this.transitionTo(SessionEvent.LOGON_CONFIRM, now);
    }
    // Logon is processed first, then a gap it reveals is asked for (FIX session spec).
    if (seq === this.nextInSeq) this.nextInSeq = seq + 1;
    else if (this.state === SessionState.ACTIVE) {
      this.enqueueGap(seq, this.parser.buf, 0, 0); // processed: only its number is still to pass
      this.sendResendRequest(seq);
    }
  }

  private onTestRequest(seq: number): void {
    if (!this.parser.has(Tag.TestReqID)) {
      this.sendReject(seq, MsgType.TEST_REQUEST, SessionRejectReason.REQUIRED_TAG_MISSING, Tag.TestReqID);
      return;
    }
    this.sendHeartbeat(this.parser);
  }

  /** SequenceReset-GapFill (123=Y) arriving in sequence: jump to NewSeqNo. */
  private onGapFill(seq: number): void {
    const r = this.inboundFailure();
    if (r !== VALIDATION_OK) {
      this.nextInSeq = seq + 1;
      this.rejectInvalid(seq, MsgType.SEQUENCE_RESET, r);
      return;
    }
    if (!this.possDupAccepted(seq, MsgType.SEQUENCE_RESET)) {
      this.nextInSeq = seq + 1;
      return;
    }
    const newSeqNo = this.parser.getInt(Tag.NewSeqNo);
    if (newSeqNo <= seq) {
      this.nextInSeq = seq + 1;
      const reason = newSeqNo < 0 ? SessionRejectReason.REQUIRED_TAG_MISSING : SessionRejectReason.VALUE_OUT_OF_RANGE;
      this.sendReject(seq, MsgType.SEQUENCE_RESET, reason, Tag.NewSeqNo);
      return;
    }
    this.nextInSeq = newSeqNo;
    this.closeResendIfDone();
  }

  /** SequenceReset-Reset (no 123=Y): MsgSeqNum is ignored; NewSeqNo may only move forward. */
  private onSequenceResetReset(seq: number): void {
    const r = this.inboundFailure();
    if (r !== VALIDATION_OK) {
      this.rejectInvalid(seq, MsgType.SEQUENCE_RESET, r);
      return;
    }
    const newSeqNo = this.parser.getInt(Tag.NewSeqNo);
    if (newSeqNo < this.nextInSeq) {
      const reason = newSeqNo < 0 ? SessionRejectReason.REQUIRED_TAG_MISSING : SessionRejectReason.VALUE_OUT_OF_RANGE;
      this.sendReject(seq, MsgType.SEQUENCE_RESET, reason, Tag.NewSeqNo);
      return;
    }
    this.nextInSeq = newSeqNo;
    this.closeResendIfDone();
    if (this.seqResetListener !== null) this.seqResetListener(this, SeqResetCause.SEQUENCE_RESET, newSeqNo);
  }

  private onLogoutReceived(): void {
    const text = this.parser.getString(Tag.Text); // allocates, once per session end
    const reason = text === undefined ? 'logout received' : `logout received: ${text}`;
    if (this.state === SessionState.ACTIVE) this.sendLogout(null); // answer, then drop
    this.lastDisconnectReason = reason;
    // A transport that delivers synchronously may already have closed us while answering.
    if (this.state === SessionState.DISCONNECTED) return;
    const transport = this.transport;
    this.transport = null;
    this.inLength = 0;
    this.clearGapQueue();
    this.transitionTo(SessionEvent.LOGOUT_RECEIVE, this.clock.now());
    if (transport !== null) transport.close();
  }

  private onCompIdProblem(): void {
    if (this.state === SessionState.ACTIVE) {
      const seq = this.parser.getInt(Tag.MsgSeqNum);
      const refTag = this.parser.equalsAscii(Tag.SenderCompID, this.targetCompIdBytes) ? Tag.TargetCompID : Tag.SenderCompID;
      if (seq > 0) this.sendReject(seq, this.parser.msgType, SessionRejectReason.COMPID_PROBLEM, refTag);
    }
    this.logoutAndDisconnect(TEXT_COMPID, 'CompID problem');
  }

  // ---------------------------------------------------------------- outbound admin messages

  private logoutAndDisconnect(text: Uint8Array, reason: string): void {
    this.sendLogout(text);
    this.disconnect(reason);
  }

  private beginAdmin(msgType: number): FixEncoder {
    return this.adminEncoder.begin(msgType, this.senderCompIdBytes, this.targetCompIdBytes, this.nextOutSeq, this.clock.now());
  }

  /** Finishes and writes an admin message with the next sequence number. */
  private sendAdmin(): boolean {
    const length = this.adminEncoder.finish();
    if (this.transport === null) return false;
    return this.write(this.adminEncoder, length, this.clock.now(), false);
  }

  /**
   * Writes a finished message that carries MsgSeqNum nextOutSeq. The number is consumed BEFORE
   * write(): a transport may deliver synchronously, and anything sent from inside that delivery
   * must get the next number. A refused write delivered nothing, so the number is given back.
   */
  private write(e: FixEncoder, length: number, nowMs: number, app: boolean): boolean {
    const seq = this.nextOutSeq;
    const lastSentMs = this.lastSentMs;
    this.nextOutSeq = seq + 1;
    this.lastSentMs = nowMs;
    // Recorded before the write, in order, for the same reason; admin messages as markers only.
    this.peekSeq = 0;
    this.store.record(seq, e.buf, e.start, app ? length : 0);
    if (this.transport !== null && this.transport.write(e.buf, e.start, length)) return true;
    if (this.nextOutSeq !== seq + 1) throw new Error('Invariant: a refused write sent nothing else');
    this.store.rollback(seq);
    this.nextOutSeq = seq;
    this.lastSentMs = lastSentMs;
    return false;
  }

  private sendLogon(reset: boolean): void {
    const e = this.beginAdmin(MsgType.LOGON);
    e.addInt(Tag.EncryptMethod, 0).addInt(Tag.HeartBtInt, this.heartBtIntMs / 1000);
    if (reset) e.addChar(Tag.ResetSeqNumFlag, 0x59);
    this.sendAdmin();
  }

  private sendLogout(text: Uint8Array | null): void {
    if (this.transport === null) return;
    const e = this.beginAdmin(MsgType.LOGOUT);
    if (text !== null) e.addAscii(Tag.Text, text);
    this.sendAdmin();
  }

  /** Heartbeat; when answering a TestRequest, echoes its TestReqID (112) from `request`. */
  private sendHeartbeat(request: FixParser | null): void {
    const e = this.beginAdmin(MsgType.HEARTBEAT);
    if (request !== null) e.addBytes(Tag.TestReqID, request.buf, request.valueStart(Tag.TestReqID), request.valueEnd(Tag.TestReqID));
    if (this.sendAdmin()) this.heartbeatSentCount++;
  }

  private sendTestRequest(nowMs: number): void {
    this.testRequestCounter++;
    const e = this.beginAdmin(MsgType.TEST_REQUEST);
    e.addInt(Tag.TestReqID, this.testRequestCounter);
    if (!this.sendAdmin()) return;
    this.testRequestOutstanding = true;
    this.testRequestSentMs = nowMs;
    this.testRequestSentCount++;
  }

  /**
   * ResendRequest for the closed range [nextInSeq, seenSeq - 1]. A closed range (rather than
   * EndSeqNo 0 = infinity) keeps the counterparty's gap fill from jumping over the messages we
   * queued after the gap.
   */
  private sendResendRequest(seenSeq: number): void {
    const e = this.beginAdmin(MsgType.RESEND_REQUEST);
    e.addInt(Tag.BeginSeqNo, this.nextInSeq).addInt(Tag.EndSeqNo, seenSeq - 1);
    if (!this.sendAdmin()) return;
    this.resendTargetSeq = seenSeq;
    this.resendRequestSentMs = this.clock.now();
    this.resendProgressSeq = this.nextInSeq;
    this.resendRequestSentCount++;
  }

  /**
   * Answers a ResendRequest (vol. 2, "Message Recovery"): the range [BeginSeqNo, EndSeqNo] (0 or
   * beyond: everything sent so far) is answered from the store, chunk by chunk (pumpResend). A
   * new request replaces one still being answered: the counterparty's latest view wins.
   */
  private answerResendRequest(seq: number): void {
    const m = this.parser;
    const begin = m.getInt(Tag.BeginSeqNo);
    let end = m.getInt(Tag.EndSeqNo);
    if (begin <= 0 || end < 0) {
      const refTag = begin <= 0 ? Tag.BeginSeqNo : Tag.EndSeqNo;
      const reason = m.has(refTag) ? SessionRejectReason.VALUE_OUT_OF_RANGE : SessionRejectReason.REQUIRED_TAG_MISSING;
      this.sendReject(seq, MsgType.RESEND_REQUEST, reason, refTag);
      return;
    }
    const lastSent = this.nextOutSeq - 1;
    if (end === 0 || end > lastSent) end = lastSent;
    if (begin > end) return; // nothing of that range was ever sent
    this.resendNext = begin;
    this.resendEnd = end;
    this.pumpResend();
  }

  /**
   * Sends the next chunk of the resend in progress: up to resendChunkMessages messages (stored
   * application messages resent, or gap fills), stopping early while the transport is backed up.
   * Guarded against re-entry (a synchronous transport may bring a new request meanwhile).
   */
  private pumpResend(): void {
    if (this.resending) return;
    this.resending = true;
    try {
      let budget = this.resendChunkMessages;
      while (this.resendNext !== 0 && budget > 0 && this.transport !== null && !this.transportBackedUp()) {
        if (!this.resendStep()) break;
        budget--;
      }
      this.transportBackedUp(); // records the backlog the chunk left behind
    } finally {
      this.resending = false;
    }
  }

  /** Answers resendNext with one message; false when the transport refused it (try again later). */
  private resendStep(): boolean {
    const seq = this.resendNext;
    if (seq > this.resendEnd) {
      this.resendNext = 0;
      return true;
    }
    const length = this.readStored(seq);
    if (length > 0 && this.resendStored(seq, length)) {
      if (!this.writeResent()) return false;
      this.resendNext = seq + 1;
      return true;
    }
    const newSeqNo = this.gapEnd(seq);
    if (!this.sendGapFill(seq, newSeqNo)) return false;
    this.resendNext = newSeqNo;
    return true;
  }

  private transportBackedUp(): boolean {
    const backlog = this.transportBacklog();
    if (backlog > this.resendBacklogMaxBytes) this.resendBacklogMaxBytes = backlog;
    return backlog > this.resendMaxBufferedBytes;
  }

  /** Bytes the transport holds unsent, or 0 when it cannot tell. */
  private transportBacklog(): number {
    const t = this.transport;
    return t !== null && t.bufferedBytes !== undefined ? t.bufferedBytes() : 0;
  }

  /** Length of the stored message seq (0: none), reading the store at most once per seq. */
  private readStored(seq: number): number {
    if (seq === this.peekSeq) return this.peekLength;
    const length = seq < this.store.firstReadableSeq ? 0 : this.store.read(seq);
    this.peekSeq = seq;
    this.peekLength = length;
    return length;
  }

  /**
   * NewSeqNo of a gap fill starting at seq: the next stored message, or the end of the range,
   * scanning at most GAP_SCAN_PER_MESSAGE * resendChunkMessages numbers (a longer gap takes
   * several gap fills, each a step of the chunk).
   */
  private gapEnd(seq: number): number {
    const last = this.resendEnd;
    const first = this.store.firstReadableSeq;
    let s = seq + 1;
    if (s < first) return first <= last ? first : last + 1;
    const limit = seq + GAP_SCAN_PER_MESSAGE * this.resendChunkMessages;
    while (s <= last && s < limit && this.readStored(s) === 0) s++;
    return s;
  }

  /**
   * Re-encodes the stored frame seq (in store.readBuf) into resendEncoder: same MsgSeqNum and
   * body, PossDupFlag=Y, OrigSendingTime = its SendingTime, a new SendingTime. False when the
   * stored bytes are not a frame (then it is gap-filled).
   */
  private resendStored(seq: number, length: number): boolean {
    const p = this.resendParser;
    const start = this.store.readStart;
    if (p.parse(this.store.readBuf, start, start + length) !== length) return false;
    const e = this.resendEncoder.begin(p.msgType, this.senderCompIdBytes, this.targetCompIdBytes, seq, this.clock.now());
    e.addChar(Tag.PossDupFlag, 0x59);
    const sent = p.indexOf(Tag.SendingTime);
    if (sent >= 0) e.addBytes(Tag.OrigSendingTime, p.buf, p.valueStartAt(sent), p.valueEndAt(sent));
    for (let i = 1; i < p.fieldCount; i++) {
      const tag = p.tagAt(i);
      if (isRewrittenHeaderTag(tag)) continue;
      e.addBytes(tag, p.buf, p.valueStartAt(i), p.valueEndAt(i));
    }
    return true;
  }

  private writeResent(): boolean {
    const length = this.resendEncoder.finish();
    if (this.transport === null || !this.transport.write(this.resendEncoder.buf, this.resendEncoder.start, length)) return false;
    this.lastSentMs = this.clock.now();
    this.resentCount++;
    return true;
  }

  /** SequenceReset-GapFill: MsgSeqNum = from, NewSeqNo, PossDupFlag=Y; consumes no new number. */
  private sendGapFill(from: number, newSeqNo: number): boolean {
    const now = this.clock.now();
    const e = this.adminEncoder.begin(MsgType.SEQUENCE_RESET, this.senderCompIdBytes, this.targetCompIdBytes, from, now);
    e.addChar(Tag.PossDupFlag, 0x59).addUtcTimestamp(Tag.OrigSendingTime, now);
    e.addChar(Tag.GapFillFlag, 0x59).addInt(Tag.NewSeqNo, newSeqNo);
    const length = e.finish();
    if (this.transport === null || !this.transport.write(e.buf, e.start, length)) return false;
    this.lastSentMs = now;
    this.gapFillSentCount++;
    return true;
  }

  /** Session Reject (35=3) of inbound message refSeq. */
  private sendReject(refSeq: number, refMsgType: number, reason: number, refTagId: number): void {
    const e = this.beginAdmin(MsgType.REJECT);
    e.addInt(Tag.RefSeqNum, refSeq);
    e.addAscii(Tag.RefMsgType, msgTypeAscii(refMsgType));
    if (refTagId > 0) e.addInt(Tag.RefTagID, refTagId);
    e.addInt(Tag.SessionRejectReason, reason);
    const text = REJECT_TEXT[reason];
    if (text !== undefined) e.addAscii(Tag.Text, text);
    if (this.sendAdmin()) this.rejectSentCount++;
    if (this.rejectListener !== null) this.rejectListener(this, REJECT_KIND_SESSION, reason);
  }

  /**
   * BusinessMessageReject (35=j) of inbound message refSeq: an application message, so it is
   * stored and resent like any other. BusinessRejectRefID (379) echoes the ClOrdID when present.
   */
  private sendBusinessReject(refSeq: number, refMsgType: number, reason: number, refTagId: number): void {
    if (this.transport === null) return;
    const m = this.parser;
    const e = this.beginAdmin(MsgType.BUSINESS_MESSAGE_REJECT);
    e.addInt(Tag.RefSeqNum, refSeq).addAscii(Tag.RefMsgType, msgTypeAscii(refMsgType));
    const clOrdId = m.indexOf(Tag.ClOrdID);
    if (clOrdId >= 0 && m.valueEndAt(clOrdId) > m.valueStartAt(clOrdId)) e.addBytes(Tag.BusinessRejectRefID, m.buf, m.valueStartAt(clOrdId), m.valueEndAt(clOrdId));
    e.addInt(Tag.BusinessRejectReason, reason);
    if (reason === BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING) e.addAsciiInt(Tag.Text, TEXT_CONDITIONAL, refTagId);
    else e.addAscii(Tag.Text, reason === BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE ? TEXT_UNSUPPORTED_TYPE : TEXT_BUSINESS_OTHER);
    const length = e.finish();
    if (this.write(e, length, this.clock.now(), true)) this.businessRejectSentCount++;
    if (this.rejectListener !== null) this.rejectListener(this, REJECT_KIND_BUSINESS, reason);
  }

  // ---------------------------------------------------------------- state machine

  /** Applies the transition table; an illegal pair here is a programming error. */
  private transitionTo(event: number, nowMs: number): void {
    const previous = this.state;
    const next = sessionTransition(previous, event);
    if (next < 0) throw new Error(`Invariant: session transition from state ${previous} on event ${event} is legal`);
    if (next === SessionState.DISCONNECTED && this.transport !== null) throw new Error('Invariant: DISCONNECTED has no transport');
    this.state = next;
    this.stateEnteredMs = nowMs;
    this.app.onStateChange(this, previous, next);
    if (this.stateListener !== null) this.stateListener(this, previous, next);
  }
}

/** Header fields a resent message gets anew (34 and 52 from begin(), 43 and 122 added). */
function isRewrittenHeaderTag(tag: number): boolean {
  return tag === Tag.SenderCompID || tag === Tag.TargetCompID || tag === Tag.MsgSeqNum || tag === Tag.SendingTime || tag === Tag.PossDupFlag || tag === Tag.OrigSendingTime || tag === Tag.PossResend;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`Condition failed: ${name} >= 1`);
  return v;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= 0)) throw new Error(`Condition failed: ${name} >= 0`);
  return v;
}

/** RefMsgType bytes for a packed MsgType, from a small cache so nothing is allocated per reject. */
const MSG_TYPE_ASCII_1 = new Array<Uint8Array>(256);
const MSG_TYPE_SCRATCH = new Uint8Array(4);
function msgTypeAscii(packed: number): Uint8Array {
  if (packed < 256) {
    let cached = MSG_TYPE_ASCII_1[packed];
    if (cached === undefined) {
      cached = Uint8Array.of(packed);
      MSG_TYPE_ASCII_1[packed] = cached;
    }
    return cached;
  }
  const end = writeMsgType(MSG_TYPE_SCRATCH, 0, packed);
  return MSG_TYPE_SCRATCH.subarray(0, end); // allocates a view: multi-byte types are rare in rejects
}
