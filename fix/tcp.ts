/**
 * Glue between node:net sockets and FIX sessions: a transport with bounded, batched writes, an
 * initiator that reconnects with capped exponential back-off (optionally jittered from a seeded
 * source) and keeps to its session's schedule, and an acceptor that maps an
 * incoming Logon's CompIDs to a configured session.
 *
 *   socket 'data' --> session.onBytes(chunk)           (parsed in place, no copy when aligned)
 *   session.write --> TcpTransport chunk (copy) --microtask--> socket.write(chunk view)
 *
 * Writes made during one event-loop callback are coalesced into one socket.write by a
 * microtask (the cork of uWebSockets.js, the Disruptor's end-of-batch). A chunk handed to the
 * socket is not reused until the socket's write callback returns it to the pool. The per-flush
 * view (Buffer.subarray) is the only allocation on the send path: one per batch, not per message.
 *
 * Memory per connection is bounded both ways: inbound by the session's reassembly buffer (and
 * MAX_FRAME_LENGTH before logon), outbound by maxOutboundBytes (write() then returns false).
 */
import { copyBytes } from '../engine/bytes.ts';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { MAX_FRAME_LENGTH, FixParser } from './parser.ts';
import { MsgType } from './msg-type.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole, type FixTransport } from './session.ts';
import { Tag } from './tags.ts';

/** A chunk covers the largest frame, so one message never spans two chunks. */
const CHUNK_BYTES = MAX_FRAME_LENGTH + 1024;
const DEFAULT_MAX_OUTBOUND_BYTES = 4 * CHUNK_BYTES;
/** After close(): give the peer this long to close its side, then destroy. */
const CLOSE_GRACE_MS = 1000;

type StateHook = (session: FixSession, previous: number, next: number) => void;

class OutChunk {
  readonly buf: Buffer;
  length: number;
  readonly done: () => void;

  constructor(pool: OutChunk[]) {
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.length = 0;
    this.done = () => {
      this.length = 0;
      pool.push(this);
    };
  }
}

/** A FixTransport over a connected socket. */
export class TcpTransport implements FixTransport {
  readonly socket: net.Socket;
  /** Bytes refused because the outbound bound was reached (counter). */
  refusedBytes: number;
  /** Largest bufferedBytes() seen at a write (high-water mark of the outbound queue). */
  maxBufferedSeen: number;
  private readonly maxOutboundBytes: number;
  private readonly pool: OutChunk[];
  private current: OutChunk;
  private chunksAllocated: number;
  private flushScheduled: boolean;
  private closed: boolean;
  private readonly flushBound: () => void;
  /**
   * Run before bytes go to the socket: the session's store write-ahead (bind() sets it), so a
   * process killed after the peer saw a message still has its sequence number on disk.
   */
  beforeFlush: (() => void) | null = null;

  constructor(socket: net.Socket, maxOutboundBytes: number = DEFAULT_MAX_OUTBOUND_BYTES) {
    if (!(maxOutboundBytes >= CHUNK_BYTES)) throw new Error('Condition failed: maxOutboundBytes >= one chunk');
    this.socket = socket;
    this.refusedBytes = 0;
    this.maxBufferedSeen = 0;
    this.maxOutboundBytes = maxOutboundBytes;
    this.pool = [];
    this.current = new OutChunk(this.pool);
    this.chunksAllocated = 1;
    this.flushScheduled = false;
    this.closed = false;
    this.flushBound = () => {
      this.flushScheduled = false;
      this.flush();
    };
    socket.setNoDelay(true);
  }

  write(buf: Uint8Array, start: number, length: number): boolean {
    if (this.closed || this.socket.destroyed) return false;
    if (this.socket.writableLength + this.current.length + length > this.maxOutboundBytes) {
      this.refusedBytes += length;
      return false;
    }
    if (this.current.length + length > CHUNK_BYTES) {
      this.flush();
      if (this.current.length + length > CHUNK_BYTES) return false; // no chunk free: back-pressure
    }
    copyBytes(buf, start, this.current.buf, this.current.length, length);
    this.current.length += length;
    const buffered = this.socket.writableLength + this.current.length;
    if (buffered > this.maxBufferedSeen) this.maxBufferedSeen = buffered;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushBound);
    }
    return true;
  }

  /** Stops or resumes reading the socket (node:net pause/resume): the kernel's buffers hold the rest. */
  setInputPaused(paused: boolean): void {
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  /** Bytes written and not yet taken by the kernel: the socket's queue plus the open chunk. */
  bufferedBytes(): number {
    return this.socket.writableLength + this.current.length;
  }

  /** Hands what was written so far to the socket. Called by the microtask; callable at batch end. */
  flush(): void {
    const chunk = this.current;
    if (chunk.length === 0 || this.socket.destroyed) return;
    if (this.beforeFlush !== null) this.beforeFlush();
    const next = this.pool.pop() ?? this.allocateChunk();
    if (next === null) return; // every chunk is in the socket: keep buffering into this one
    this.current = next;
    this.socket.write(chunk.buf.subarray(0, chunk.length), chunk.done);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
  }

  private allocateChunk(): OutChunk | null {
    if (this.chunksAllocated * CHUNK_BYTES >= this.maxOutboundBytes) return null;
    this.chunksAllocated++;
    return new OutChunk(this.pool);
  }
}

/** Attaches a socket to a session: bytes in, close out. Returns the transport. */
function bind(session: FixSession, socket: net.Socket, transport: TcpTransport): void {
  transport.beforeFlush = () => session.writeAheadStore();
  socket.on('data', (chunk: Buffer) => {
    if (session.isAttachedTo(transport)) session.onBytes(chunk, 0, chunk.length);
  });
  socket.on('close', () => session.onTransportClosed(transport));
}

// ------------------------------------------------------------------------------- initiator

export interface FixInitiatorOptions {
  /** Loopback in tests and the demo. Default 127.0.0.1. */
  host?: string;
  port: number;
  session: FixSession;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 100. */
  reconnectMinMs?: number;
  /** Default 5,000. */
  reconnectMaxMs?: number;
  /**
   * Fraction of each delay taken off at random, in [0, 1]: delay * (1 - jitter * random()), so
   * many initiators restarting together spread out. Default 0 (deterministic).
   */
  reconnectJitter?: number;
  /** Source of the jitter in [0, 1): pass a seeded generator for reproducible runs. Default Math.random. */
  random?: () => number;
  /** While the session's schedule is closed, how often to look again. Default 1,000 ms. */
  scheduleRecheckMs?: number;
  /** How often session.onTimer runs. Default 200 ms. */
  timerIntervalMs?: number;
  maxOutboundBytes?: number;
  onStateChange?: StateHook;
  /**
   * FIX over TLS: connect with these options (ca, servername, rejectUnauthorized, client cert...)
   * and start the session only once the handshake is done. Absent: plain TCP.
   */
  tls?: tls.ConnectionOptions;
}

/** Connects one initiator session, keeps it connected, and drives its timers. */
export class FixInitiator {
  readonly session: FixSession;
  /** Connection attempts since the last successful logon. */
  attempts: number;
  private readonly host: string;
  private readonly port: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly reconnectJitter: number;
  private readonly random: () => number;
  private readonly scheduleRecheckMs: number;
  private readonly timerIntervalMs: number;
  private readonly maxOutboundBytes: number;
  private readonly hook: StateHook | null;
  private readonly tlsOptions: tls.ConnectionOptions | null;
  private socket: net.Socket | null;
  private timer: NodeJS.Timeout | null;
  private reconnectTimer: NodeJS.Timeout | null;
  private stopped: boolean;
  private stopWaiters: (() => void)[];

  constructor(options: FixInitiatorOptions) {
    if (options.session.role !== SessionRole.INITIATOR) throw new Error('Condition failed: initiator session');
    if (!(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) throw new Error('Condition failed: port');
    this.session = options.session;
    this.attempts = 0;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5_000;
    if (!(this.reconnectMinMs >= 1 && this.reconnectMaxMs >= this.reconnectMinMs)) throw new Error('Condition failed: 1 <= reconnectMinMs <= reconnectMaxMs');
    this.reconnectJitter = options.reconnectJitter ?? 0;
    if (!(this.reconnectJitter >= 0 && this.reconnectJitter <= 1)) throw new Error('Condition failed: reconnectJitter in [0, 1]');
    this.random = options.random ?? Math.random;
    this.scheduleRecheckMs = options.scheduleRecheckMs ?? 1_000;
    this.timerIntervalMs = options.timerIntervalMs ?? 200;
    this.maxOutboundBytes = options.maxOutboundBytes ?? DEFAULT_MAX_OUTBOUND_BYTES;
    this.hook = options.onStateChange ?? null;
    this.tlsOptions = options.tls ?? null;
    this.socket = null;
    this.timer = null;
    this.reconnectTimer = null;
    this.stopped = true;
    this.stopWaiters = [];
    this.session.stateListener = (s, previous, next) => this.onSessionState(s, previous, next);
  }

  /** Starts connecting; reconnects after every disconnect until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.session.onTimer(this.session.clock.now()), this.timerIntervalMs);
    this.connect();
  }

  /** Logs out (when logged on), waits for the disconnect, and stops reconnecting. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.session.state === SessionState.DISCONNECTED) {
      this.clearTimer();
      if (this.socket !== null) this.socket.destroy();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.session.logout() !== 0) this.session.disconnect('initiator stopped');
    return done;
  }

  /**
   * Delay before the next connection attempt: min * 2^(attempts-1), capped at max, less the
   * jitter (never below 1 ms). Reads the random source once when jitter > 0.
   */
  reconnectDelayMs(): number {
    const exp = this.attempts > 20 ? 20 : this.attempts;
    const d = this.reconnectMinMs * 2 ** (exp > 0 ? exp - 1 : 0);
    const capped = d < this.reconnectMaxMs ? d : this.reconnectMaxMs;
    if (this.reconnectJitter === 0) return capped;
    const jittered = Math.round(capped * (1 - this.reconnectJitter * this.random()));
    return jittered >= 1 ? jittered : 1;
  }

  private connect(): void {
    if (!this.session.inSchedule(this.session.clock.now())) {
      // Outside the session's schedule no connection is attempted; look again later.
      this.session.scheduleRefusedCount++;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (!this.stopped) this.connect();
      }, this.scheduleRecheckMs);
      return;
    }
    this.attempts++;
    const socket = this.tlsOptions === null
      ? net.connect({ host: this.host, port: this.port, noDelay: true })
      : tls.connect({ ...this.tlsOptions, host: this.host, port: this.port });
    if (this.tlsOptions !== null) socket.setNoDelay(true);
    this.socket = socket;
    const transport = new TcpTransport(socket, this.maxOutboundBytes);
    let attached = false;
    // Over TLS the session starts after the handshake (a failed handshake is an 'error', then 'close').
    socket.once(this.tlsOptions === null ? 'connect' : 'secureConnect', () => {
      if (this.stopped) {
        socket.destroy();
        return;
      }
      bind(this.session, socket, transport);
      attached = this.session.onConnected(transport) === 0;
      if (!attached) socket.destroy(); // e.g. the schedule closed meanwhile: 'close' reschedules
    });
    socket.on('error', () => {
      // 'close' follows every 'error'; the reconnect is scheduled there.
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = null;
      if (!attached) this.afterDisconnect();
      // when attached, bind()'s close handler moves the session to DISCONNECTED, which calls
      // onSessionState, which schedules the reconnect.
    });
  }

  private onSessionState(session: FixSession, previous: number, next: number): void {
    if (next === SessionState.ACTIVE) this.attempts = 0;
    if (this.hook !== null) this.hook(session, previous, next);
    if (next === SessionState.DISCONNECTED) this.afterDisconnect();
  }

  private afterDisconnect(): void {
    if (this.stopped) {
      this.clearTimer();
      const waiters = this.stopWaiters;
      this.stopWaiters = [];
      for (const w of waiters) w();
      return;
    }
    if (this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.connect();
    }, this.reconnectDelayMs());
  }

  private clearTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

// ------------------------------------------------------------------------------- acceptor

export interface FixAcceptorOptions {
  /** Loopback in tests and the demo. Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port; listen() resolves with the real one. */
  port: number;
  /** Acceptor sessions; each is reachable by a Logon with 49 = its targetCompId, 56 = its senderCompId. */
  sessions: FixSession[];
  /** How often every session's onTimer runs. Default 200 ms. */
  timerIntervalMs?: number;
  /** A connection that sends no valid Logon in time is dropped. Default 5,000 ms. */
  logonTimeoutMs?: number;
  maxOutboundBytes?: number;
  onStateChange?: StateHook;
  /**
   * Called with the first frame (a Logon whose CompIDs name `session`) before the session sees
   * it: false refuses the connection (counted in refusedCount), e.g. for a wrong Password (554).
   * The parser is valid only during the call.
   */
  authorize?: (session: FixSession, logon: FixParser) => boolean;
  /**
   * FIX over TLS: listen with these options (key, cert, passphrase; ca + requestCert for client
   * certificates). A connection reaches the Logon check only after its handshake. Absent: plain TCP.
   */
  tls?: tls.TlsOptions;
}

/** Listens for initiators and hands each logged-on connection to its configured session. */
export class FixAcceptor {
  readonly sessions: FixSession[];
  /** Connections refused: unknown CompIDs, duplicate logon, garbage or timeout before Logon. */
  refusedCount: number;
  private readonly host: string;
  private readonly port: number;
  private readonly timerIntervalMs: number;
  private readonly logonTimeoutMs: number;
  private readonly maxOutboundBytes: number;
  private readonly authorize: ((session: FixSession, logon: FixParser) => boolean) | null;
  private readonly byCompIds: Map<string, FixSession>;
  private readonly sockets: Set<net.Socket>;
  private readonly server: net.Server;
  private timer: NodeJS.Timeout | null;

  constructor(options: FixAcceptorOptions) {
    this.sessions = options.sessions;
    this.refusedCount = 0;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.timerIntervalMs = options.timerIntervalMs ?? 200;
    this.logonTimeoutMs = options.logonTimeoutMs ?? 5_000;
    this.maxOutboundBytes = options.maxOutboundBytes ?? DEFAULT_MAX_OUTBOUND_BYTES;
    this.authorize = options.authorize ?? null;
    this.byCompIds = new Map();
    for (const s of options.sessions) {
      if (s.role !== SessionRole.ACCEPTOR) throw new Error('Condition failed: acceptor sessions only');
      const key = compIdKey(s.targetCompId, s.senderCompId);
      if (this.byCompIds.has(key)) throw new Error(`Condition failed: one session per CompID pair (${s.targetCompId}->${s.senderCompId})`);
      this.byCompIds.set(key, s);
      if (options.onStateChange !== undefined) s.stateListener = options.onStateChange;
    }
    this.sockets = new Set();
    this.server = options.tls === undefined
      ? net.createServer({ noDelay: true }, (socket) => this.onConnection(socket))
      : tls.createServer(options.tls, (socket) => {
        socket.setNoDelay(true);
        this.onConnection(socket);
      });
    // A client that fails the TLS handshake never becomes a connection: count it as refused.
    if (options.tls !== undefined) this.server.on('tlsClientError', () => this.refusedCount++);
    this.timer = null;
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        this.timer = setInterval(() => this.tick(), this.timerIntervalMs);
        const addr = this.server.address() as net.AddressInfo;
        resolve(addr.port);
      });
    });
  }

  /** Logs out every logged-on session (waiting up to logoutWaitMs), then closes everything. */
  async close(logoutWaitMs = 1000): Promise<void> {
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) if (s.state === SessionState.ACTIVE) s.logout();
    const deadline = Date.now() + logoutWaitMs;
    while (Date.now() < deadline && this.sessions.some((s) => s.state !== SessionState.DISCONNECTED)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const s of this.sessions) s.disconnect('acceptor closed');
    for (const socket of this.sockets) socket.destroy();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await closing;
  }

  private tick(): void {
    const now = this.sessions.length > 0 ? this.sessions[0].clock.now() : 0;
    for (const s of this.sessions) s.onTimer(now);
  }

  /** Before Logon the connection belongs to no session: buffer (bounded) and parse the first frame. */
  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const pending = new Uint8Array(MAX_FRAME_LENGTH);
    let pendingLength = 0;
    const refuse = () => {
      this.refusedCount++;
      socket.removeListener('data', onData);
      socket.destroy();
    };
    const parser = new FixParser(64);
    const timeout = setTimeout(refuse, this.logonTimeoutMs);
    timeout.unref();
    const onData = (chunk: Buffer) => {
      const n = Math.min(chunk.length, pending.length - pendingLength);
      pending.set(chunk.subarray(0, n), pendingLength);
      pendingLength += n;
      const r = parser.parse(pending, 0, pendingLength);
      if (r === 0 && n === chunk.length) return; // wait for the rest of the Logon
      clearTimeout(timeout);
      if (r <= 0 || parser.msgType !== MsgType.LOGON) return refuse();
      const session = this.byCompIds.get(compIdKey(parser.getString(Tag.SenderCompID) ?? '', parser.getString(Tag.TargetCompID) ?? ''));
      if (session === undefined || session.state !== SessionState.DISCONNECTED) return refuse(); // unknown, or already logged on
      if (this.authorize !== null && !this.authorize(session, parser)) return refuse();
      socket.removeListener('data', onData);
      const transport = new TcpTransport(socket, this.maxOutboundBytes);
      bind(session, socket, transport);
      session.onConnected(transport);
      session.onBytes(pending, 0, pendingLength);
      if (n < chunk.length && session.isAttachedTo(transport)) session.onBytes(chunk, n, chunk.length);
    };
    socket.on('data', onData);
  }
}

/** Map key for (SenderCompID on the wire, TargetCompID on the wire). Allocates; once per connection. */
function compIdKey(wireSender: string, wireTarget: string): string {
  return `${wireSender}\u0000${wireTarget}`;
}
