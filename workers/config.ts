/**
 * Engine configuration: embedded defaults, then a JSON file (CONFIG_FILE or --config), then
 * environment overrides. Every value is validated here, at start-up, with an error that names
 * the setting; nothing downstream re-checks config. The README's configuration reference lists
 * the same keys.
 */

import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { IDLE_KINDS, type IdleKind } from '../engine/idle.ts';
import { MAX_PRICE_TICKS, MAX_QTY, PRICE_SCALE, INVALID } from '../engine/fixed-point.ts';
import { ticksFromDecimalString } from '../engine/fixed-point.ts';
import { validateSchedule, type SessionScheduleConfig } from '../fix/session-schedule.ts';
import { RETENTION_MODES, type RetentionMode } from '../persistence/retention.ts';
import { THREADING_SETTINGS, threadingForCores, type ThreadingMode, type ThreadingSetting } from './topology.ts';

export interface SymbolConfig {
  name: string;
  /** Reference price (e.g. previous close) as a decimal string: the notional of market orders. */
  referencePrice: string;
  // Pre-trade risk per symbol (workers/risk/limits.ts); validateConfig fills the defaults.
  /** Price collar, percent of the reference price, regular hours ("0" = no collar). Default "0". */
  priceBandPct?: string;
  /** The collar outside regular hours (set it wider). Default "0". */
  priceBandOutsidePct?: string;
  /** No account may sell it short. Default false. */
  noShort?: boolean;
  /** No account may trade it. Default false. */
  restricted?: boolean;
}

export interface AccountConfig {
  id: number;
  name: string;
  /** API key for WebSocket and REST (Authorization: Bearer <key>, or ?token=<key> on /v1/ws). */
  apiKey: string;
  maxOrderQty: number;
  /** Largest notional of one order, decimal string in currency units. */
  maxOrderNotional: string;
  enabled: boolean;
  /** 'admin' may use /v1/admin routes; every key trades only its own account. Default 'trader'. */
  role: Role;
  // Pre-trade limits of the risk stage (workers/risk/limits.ts), changeable at runtime through
  // /v1/admin/limits. Optional in the file; validateConfig fills ACCOUNT_LIMIT_DEFAULTS.
  /** Credit: open BUY notional + cost of long positions, decimal currency units. */
  creditLimit?: string;
  /** Largest absolute position per symbol counting open orders on the same side (shares). */
  maxPosition?: number;
  /** New orders per second and burst (risk's token bucket). */
  ordersPerS?: number;
  orderBurst?: number;
  /** Commands (new, cancel, replace) per second and burst; cancels count but are never refused. */
  msgsPerS?: number;
  msgBurst?: number;
  /** May sell beyond its long position (symbols with noShort excepted). */
  allowShort?: boolean;
  /** Duplicate-content window in ms (0 = off). */
  duplicateWindowMs?: number;
  /** Symbols this account may not trade. */
  restrictedSymbols?: string[];
}

/** Account limit defaults when the file leaves a key out (README: pre-trade risk). */
export const ACCOUNT_LIMIT_DEFAULTS = {
  creditLimit: '1000000000',
  maxPosition: 10_000_000,
  ordersPerS: 20_000,
  orderBurst: 40_000,
  msgsPerS: 40_000,
  msgBurst: 80_000,
  allowShort: true,
  duplicateWindowMs: 0,
} as const;

/** Regular hours and DAY expiry in a fixed offset from UTC (no daylight-saving switch). */
export interface SessionSettings {
  utcOffsetMinutes: number;
  /** "HH:MM" local. */
  open: string;
  close: string;
  /** At close, cancel every DAY order at its venues and report it EXPIRED. */
  expireDayOrders: boolean;
}

/** The risk stage's market-data settings. */
export interface RiskSettings {
  /** A venue quote counts toward the NBBO reference for this long after risk received it. */
  quoteFreshMs: number;
  /** How often positions are re-marked to the reference price. */
  markIntervalMs: number;
}

export type Role = 'trader' | 'admin';

/** Limits that protect the edge (per connection, per account, per server). */
export interface HttpConfig {
  host: string;
  port: number;
  maxConnections: number;
  maxConnectionsPerAccount: number;
  /** Largest WebSocket message; a larger one closes the connection with 1009. */
  maxFrameBytes: number;
  /** Largest REST body; a larger one gets 413. */
  maxBodyBytes: number;
  /** A client whose unsent data passes this is disconnected as a slow consumer. */
  maxBackpressureBytes: number;
  /** A WebSocket that sends nothing (not even a pong) for this long is closed. */
  idleTimeoutS: number;
  /** Seconds between the server's heartbeat messages on every WebSocket. */
  heartbeatS: number;
  /** Default for ?cancelOnDisconnect: cancel a connection's open orders when it closes. */
  cancelOnDisconnect: boolean;
  rateLimit: RateLimitConfig;
  /** TLS for WebSocket and REST (uWebSockets.js SSLApp): wss:// and https://; null = plain. */
  tls: TlsConfig | null;
}

/** TLS files, read at start-up; the private key and its passphrase never live in the config itself. */
export interface TlsConfig {
  /** PEM certificate chain. */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
  /** A file holding the key's passphrase (first line), when the key is encrypted. */
  passphraseFile?: string;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The Prometheus endpoint, served by the supervisor (main thread). */
export interface MetricsConfig {
  host: string;
  /** 0 = no metrics endpoint. */
  port: number;
}

export interface RateLimitConfig {
  /** Messages per second one WebSocket connection may send (token bucket refill). */
  connectionMsgsPerS: number;
  connectionBurst: number;
  /** Order commands (new, cancel, replace) per second for one account, over all its connections and REST. */
  accountMsgsPerS: number;
  accountBurst: number;
  /** A connection refused this many times in a row is closed (1008): a flood, not a burst. */
  floodDisconnectAfter: number;
}

export interface VenueConfig {
  id: number;
  name: string;
  host: string;
  port: number;
  /** Our CompID on this venue's session (49 on what we send). */
  senderCompId: string;
  /** The venue's CompID (56 on what we send). */
  targetCompId: string;
  heartBtIntS: number;
  /** Fee in basis points of notional, decimal string ("0.3" = 0.3 bp). */
  feeBps: string;
  /** Expected round trip in microseconds (prior for the SOR). */
  latencyUs: number;
  fillProbability: number;
  /** Smallest child order the SOR sends this venue (shares; 0 = any). Default 0. */
  minQty?: number;
  /** The SOR sends this venue whole multiples of this (shares). Default 1. */
  lotSize?: number;
  /** Message store directory of this venue's FIX session; default <journal.dir>/fix/<senderCompId>-<targetCompId>. */
  storeDir?: string;
  /** Reconnect back-off: first delay, doubling per failed attempt up to the cap (ms). Defaults 100, 5000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Fraction of each delay taken off at random, 0 to 1 (0 = deterministic). Default 0.2. */
  reconnectJitter?: number;
  /** Seed of the jitter's generator (reproducible runs). Default: the venue id. */
  reconnectSeed?: number;
  /** Daily session schedule (fix/session-schedule.ts); absent = always on, no daily reset. */
  schedule?: SessionScheduleConfig;
  /**
   * Logon with ResetSeqNumFlag (141=Y) every time: both sequence numbers restart at 1 and the
   * stored messages are dropped (venues that require it). Default false: a reconnect resumes the
   * session and the resend protocol recovers what either side missed.
   */
  resetOnLogon?: boolean;
  /**
   * A cancel (35=F) this venue has not answered after this many ms (no Canceled, fill to the end,
   * or OrderCancelReject) is overdue: counted (CANCELS_OVERDUE), and a status request (35=H) asks
   * the venue where the child stands; its answer ends the child, confirms the cancel is pending,
   * or shows the venue never got it, and then the cancel is written again. Asked again each
   * further period while unanswered. 0 = never. Default 5000.
   */
  cancelAckTimeoutMs?: number;
  /** FIX over TLS to this venue (files read at start-up); absent or null = plain TCP. */
  tls?: VenueTlsConfig | null;
}

/**
 * TLS of one venue session (we are the TLS client). Every file is checked readable at start-up
 * and read once when the fix thread starts; a key's passphrase lives in a file, never here.
 */
export interface VenueTlsConfig {
  /** PEM CA certificates trusted for the venue's certificate; absent = Node's bundled public CAs. */
  caFile?: string;
  /** Our client certificate chain (PEM), for venues that ask for one; needs keyFile. */
  certFile?: string;
  /** Our client private key (PEM); needs certFile. */
  keyFile?: string;
  /** File whose first line is keyFile's passphrase (encrypted keys). */
  passphraseFile?: string;
  /** Server name sent in SNI and checked against the certificate; default: venues[].host. */
  servername?: string;
  /** Refuse a venue certificate that does not verify against the CAs and name. Default true. */
  rejectUnauthorized: boolean;
}

export type FsyncPolicy = 'none' | 'batch' | 'interval';

/** The sinks thread (workers/sinks-thread.ts): each sink follows the journal with its own cursor. */
export interface SinksConfig {
  postgres: {
    /** postgres://... (env DATABASE_URL); null = no Postgres sink. */
    url: string | null;
    /** Most journal records per transaction. */
    batchEvents: number;
    /** See kafka.lingerMs. */
    lingerMs: number;
    /** This engine's row in sink_cursor. */
    sinkName: string;
  };
  kafka: {
    /** host:port list (env KAFKA_BROKERS, comma-separated); empty = no Kafka sink. */
    brokers: string[];
    clientId: string;
    /** Most journal records per produce batch. */
    batchEvents: number;
    /**
     * Milliseconds the sink waits after a batch smaller than batchEvents before the next, so a
     * live load goes out in fewer, larger batches (each has a fixed CPU cost in the sink and the
     * server); a full batch (catching up) never waits, nor does the engine's stop. The events'
     * lag grows by about this much plus the larger batch's apply. 0: read again at once.
     */
    lingerMs: number;
    /**
     * Least milliseconds between two writes of the cursor file while batches keep coming (at once
     * when caught up, and at stop). Each write is a file created, fsynced and renamed: metadata
     * commits on the journal's file system. A crash resends the batches acknowledged since the
     * last write (up to this many ms of them; more while writes fail); consumers drop repeats by
     * event id. 0: after every batch.
     */
    cursorEveryMs: number;
    /** Cursor file <journal.dir>/sinks/<sinkName>.cursor. */
    sinkName: string;
  };
  /** Milliseconds between looks at the journal when a sink has caught up. */
  pollMs: number;
  /** Retry backoff after a failure: doubling from min to max. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /**
   * Nice value of the sinks thread (Linux: per thread), 0..19: above 0 the sinks take the CPU the
   * stages leave, so on a machine with fewer cores than busy threads they lag (and catch up from
   * the journal) rather than delay orders. 0 leaves it at the process's.
   */
  nice: number;
  /**
   * Linux: the sinks thread and the snapshot thread also run under SCHED_IDLE (workers/thread-nice.ts):
   * a stage woken onto their core takes it from them; woken stages can still queue on another, busy
   * core while they hold theirs (measured on 2 vCPUs: bench/results/archive/sched-idle-spinners/).
   * false: nice alone.
   */
  schedIdle: boolean;
}

const DEFAULT_SINKS: SinksConfig = {
  postgres: { url: null, batchEvents: 4000, lingerMs: 100, sinkName: 'postgres' },
  kafka: { brokers: [], clientId: 'oms-sor', batchEvents: 2000, lingerMs: 50, cursorEveryMs: 1000, sinkName: 'kafka' },
  pollMs: 20,
  backoffMinMs: 100,
  backoffMaxMs: 5000,
  nice: 10,
  schedIdle: true,
};

/** One FIX client session on the engine's acceptor. */
export interface FixClientSessionConfig {
  /** The client's CompID: 49 on what they send, 56 on what we send. */
  senderCompId: string;
  /** Our CompID on this session: 56 on what they send. */
  targetCompId: string;
  /** The account every order of this session trades for (accounts[].id). */
  accountId: number;
  /** When set, the Logon must carry it as Password (554); otherwise the connection is refused. */
  password?: string;
  /** Heartbeat interval we expect; the acceptor adopts the client's 108 (this documents the agreement). */
  heartBtIntS: number;
  /** Restart both sequence numbers at 1 on every Logon (stored messages dropped). */
  resetOnLogon: boolean;
  /** Message store directory; default <journal.dir>/fix/<senderCompId>-<targetCompId>. */
  storeDir?: string;
  /** Daily session schedule (fix/session-schedule.ts); absent = always on, no daily reset. */
  schedule?: SessionScheduleConfig;
}

export interface FixAcceptorConfig {
  host: string;
  port: number;
  sessions: FixClientSessionConfig[];
  /** FIX over TLS: PEM files as for http.tls; absent or null = plain TCP. */
  tls?: TlsConfig | null;
}

export interface EngineConfig {
  http: HttpConfig;
  fixAcceptor: FixAcceptorConfig;
  idle: { kind: IdleKind; spins: number; maxSleepMs: number };
  /** Which stages share a thread (workers/topology.ts threadGroups; docs/TUNING.md). */
  threading: ThreadingMode;
  ringBytes: number;
  orderCapacity: number;
  childCapacity: number;
  symbols: SymbolConfig[];
  accounts: AccountConfig[];
  venues: VenueConfig[];
  sor: SorSettingsConfig;
  /**
   * snapshots: write each stage's recovered state at start-up, and start from the newest (persistence/snapshot.ts).
   * retention: what becomes of segments nothing needs any more (persistence/retention.ts); archiveDir null: <dir>/archive.
   */
  journal: {
    dir: string; fsync: FsyncPolicy; fsyncIntervalMs: number; segmentBytes: number;
    /** Segments zero-filled before their first frame, frames written in place: an fdatasync then flushes data only (persistence/journal.ts). */
    preallocate: boolean;
    snapshots: boolean; snapshotMinEvents: number;
    /** While running: save the stages' snapshots at a segment start at least this many events after the last save (workers/snapshot-thread.ts); 0: at start-up only. */
    snapshotEveryEvents: number;
    /** How often the snapshot thread looks for such a segment start. */
    snapshotCheckMs: number;
    /** The snapshot thread's saves: written at most this fast, in fdatasynced chunks (persistence/journal.ts WritePace); 0: at once. */
    snapshotWriteMiBPerS: number;
    retention: RetentionMode; archiveDir: string | null; retentionCheckMs: number;
  };
  /** Postgres and Kafka sinks fed from the journal (persistence issue); both off by default. */
  sinks: SinksConfig;
  /** Milliseconds a worker may go without a heartbeat before the engine is declared unsafe. */
  watchdogMs: number;
  metrics: MetricsConfig;
  log: { level: LogLevel };
  session: SessionSettings;
  risk: RiskSettings;
}

/** Smart order routing (workers/sor/): README "Smart order routing" documents every key. */
export interface SorSettingsConfig {
  weights: { price: number; latency: number; fillprob: number; fee: number };
  quoteStaleMs: number;
  /** SINGLE_BEST, SPLIT or STAGED (changeable at runtime through the admin API). */
  mode: 'SINGLE_BEST' | 'SPLIT' | 'STAGED';
  /** STAGED: how long a venue has before the unfilled rest falls back to the next one. */
  stagedFallbackMs: number;
  /** Decisions per order at most: the first, then re-routes and staged fallbacks. */
  maxSteps: number;
  /** Market orders become IOC limits at NBBO +/- this many basis points. */
  collarBps: number;
  /** Price increment every venue accepts (decimal string): collar prices are rounded to it. */
  tickSize: string;
  /** EWMA weight of each new latency / fill sample in the learned venue statistics. */
  statsAlpha: number;
  /** Routes in progress at most. */
  planCapacity: number;
  /** Account name -> venue names the account may not be routed to. */
  disallowedVenues: Record<string, string[]>;
}

export const DEFAULT_CONFIG: EngineConfig = {
  http: {
    host: '127.0.0.1',
    port: 8080,
    maxConnections: 10_000,
    maxConnectionsPerAccount: 1_000,
    maxFrameBytes: 16 * 1024,
    maxBodyBytes: 16 * 1024,
    maxBackpressureBytes: 1 << 20,
    idleTimeoutS: 120,
    heartbeatS: 10,
    cancelOnDisconnect: false,
    rateLimit: { connectionMsgsPerS: 2_000, connectionBurst: 4_000, accountMsgsPerS: 20_000, accountBurst: 40_000, floodDisconnectAfter: 1_000 },
    tls: null,
  },
  fixAcceptor: {
    host: '127.0.0.1',
    port: 9878,
    sessions: [{ senderCompId: 'CLIENT1', targetCompId: 'OMS', accountId: 1, heartBtIntS: 30, resetOnLogon: false }],
  },
  // No spin before parking by default: on 2 cores a spinning thread takes the core another needs
  // (docs/TUNING.md, measured there); raise idle.spins on hosts with a core per stage.
  idle: { kind: 'park', spins: 0, maxSleepMs: 50 },
  // A thread per stage, as DESIGN.md lays the engine out; `auto` picks by the host's cores.
  threading: 'dedicated',
  ringBytes: 1 << 22,
  orderCapacity: 1 << 18,
  childCapacity: 1 << 18,
  symbols: [
    { name: 'AAPL', referencePrice: '177.25' },
    { name: 'MSFT', referencePrice: '415.10' },
    { name: 'TSLA', referencePrice: '242.80' },
    { name: 'GOOGL', referencePrice: '165.40' },
    { name: 'AMZN', referencePrice: '185.60' },
  ],
  accounts: [
    { id: 1, name: 'TRADER1', apiKey: 'demo-key-trader1', maxOrderQty: 100_000, maxOrderNotional: '10000000', enabled: true, role: 'trader' },
    { id: 2, name: 'TRADER2', apiKey: 'demo-key-trader2', maxOrderQty: 100_000, maxOrderNotional: '10000000', enabled: true, role: 'trader' },
    // The operations desk: admin routes; its own account may trade too.
    { id: 3, name: 'OPS', apiKey: 'demo-key-admin', maxOrderQty: 100_000, maxOrderNotional: '10000000', enabled: true, role: 'admin' },
  ],
  venues: [
    { id: 1, name: 'V1', host: '127.0.0.1', port: 9101, senderCompId: 'OMS', targetCompId: 'V1', heartBtIntS: 30, feeBps: '0.30', latencyUs: 300, fillProbability: 0.9 },
    { id: 2, name: 'V2', host: '127.0.0.1', port: 9102, senderCompId: 'OMS', targetCompId: 'V2', heartBtIntS: 30, feeBps: '0.20', latencyUs: 500, fillProbability: 0.85 },
    { id: 3, name: 'V3', host: '127.0.0.1', port: 9103, senderCompId: 'OMS', targetCompId: 'V3', heartBtIntS: 30, feeBps: '0.25', latencyUs: 400, fillProbability: 0.8 },
  ],
  sor: {
    weights: { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 },
    quoteStaleMs: 2000,
    mode: 'SINGLE_BEST',
    stagedFallbackMs: 50,
    maxSteps: 4,
    collarBps: 50,
    tickSize: '0.01',
    statsAlpha: 0.1,
    planCapacity: 65_536,
    disallowedVenues: {},
  },
  journal: {
    dir: 'data/journal', fsync: 'batch', fsyncIntervalMs: 10, segmentBytes: 64 * 1024 * 1024, preallocate: true, snapshots: true, snapshotMinEvents: 100_000, snapshotEveryEvents: 1_000_000, snapshotCheckMs: 1000, snapshotWriteMiBPerS: 32,
    retention: 'keep', archiveDir: null, retentionCheckMs: 60_000,
  },
  sinks: DEFAULT_SINKS,
  watchdogMs: 5000,
  metrics: { host: '127.0.0.1', port: 9464 },
  log: { level: 'info' },
  // New York regular hours in winter (UTC-5): set utcOffsetMinutes to -240 in summer.
  session: { utcOffsetMinutes: -300, open: '09:30', close: '16:00', expireDayOrders: true },
  risk: { quoteFreshMs: 2000, markIntervalMs: 1000 },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function fail(path: string, why: string): never {
  throw new ConfigError(`config ${path}: ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(path: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function numIn(path: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(path, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function str(path: string, v: unknown, pattern: RegExp, what: string): string {
  if (typeof v !== 'string' || !pattern.test(v)) fail(path, `must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(path: string, v: unknown, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(path, `must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** `auto` becomes the mode for the cores this process may use; a named mode stays. */
function resolveThreading(setting: ThreadingSetting): ThreadingMode {
  return setting === 'auto' ? threadingForCores(availableParallelism()) : setting;
}

function bool(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function role(path: string, v: unknown): Role {
  if (v === undefined) return 'trader';
  if (v !== 'trader' && v !== 'admin') fail(path, `must be trader or admin, got ${JSON.stringify(v)}`);
  return v;
}

/** A nested settings object: the file's keys over the defaults', unknown keys refused. */
function section(path: string, v: unknown, defaults: object): Record<string, unknown> {
  if (v === undefined) return { ...defaults };
  if (!isObject(v)) fail(path, 'must be an object');
  const known = new Set(Object.keys(defaults));
  for (const key of Object.keys(v)) if (!known.has(key)) fail(`${path}.${key}`, 'is not a known setting');
  return { ...defaults, ...v };
}

/** A non-negative decimal string with at most 12 integer digits and 6 decimals ("177.25"). */
export const DECIMAL = /^\d{1,12}(\.\d{1,6})?$/;

function decimal(path: string, v: unknown, maxTicks: number): string {
  const s = str(path, v, DECIMAL, 'a decimal string such as "177.25"');
  if (ticksFromDecimalString(s, maxTicks) === INVALID) fail(path, `out of range: ${s}`);
  return s;
}

export function decimalToTicks(s: string): number {
  return ticksFromDecimalString(s, Number.MAX_SAFE_INTEGER);
}

const HOST = /^[A-Za-z0-9.\-:]{1,253}$/;
const NAME = /^[A-Za-z0-9_\-]{1,32}$/;
const COMP_ID = /^[\x21-\x7e]{1,32}$/;

/** Validates a whole configuration object (defaults merged in), returning a typed copy. */
export function validateConfig(raw: unknown): EngineConfig {
  if (!isObject(raw)) fail('', 'must be a JSON object');
  const known = new Set(Object.keys(DEFAULT_CONFIG));
  for (const key of Object.keys(raw)) if (!known.has(key)) fail(key, 'is not a known setting');
  const merged = { ...DEFAULT_CONFIG, ...raw } as Record<string, unknown>;

  const http = section('http', merged.http, DEFAULT_CONFIG.http);
  const rate = section('http.rateLimit', http.rateLimit, DEFAULT_CONFIG.http.rateLimit);
  const fixAcceptor = isObject(merged.fixAcceptor) ? merged.fixAcceptor : fail('fixAcceptor', 'must be an object');
  const idle = isObject(merged.idle) ? merged.idle : fail('idle', 'must be an object');
  const idleKind = oneOf('idle.kind', idle.kind, IDLE_KINDS);
  const ringBytes = intIn('ringBytes', merged.ringBytes, 1 << 16, 1 << 30);
  if ((ringBytes & (ringBytes - 1)) !== 0) fail('ringBytes', `must be a power of two, got ${ringBytes}`);

  const symbols = Array.isArray(merged.symbols) ? merged.symbols : fail('symbols', 'must be an array');
  if (symbols.length < 1 || symbols.length > 65535) fail('symbols', 'must list 1 to 65535 symbols');
  const symbolNames = new Set<string>();
  const outSymbols = symbols.map((s, i) => {
    if (!isObject(s)) fail(`symbols[${i}]`, 'must be an object');
    const name = str(`symbols[${i}].name`, s.name, /^[A-Z0-9.\-]{1,16}$/, 'an upper-case symbol of up to 16 characters');
    if (symbolNames.has(name)) fail(`symbols[${i}].name`, `duplicate symbol ${name}`);
    symbolNames.add(name);
    return {
      name,
      referencePrice: decimal(`symbols[${i}].referencePrice`, s.referencePrice, MAX_PRICE_TICKS),
      priceBandPct: percent(`symbols[${i}].priceBandPct`, s.priceBandPct ?? '0'),
      priceBandOutsidePct: percent(`symbols[${i}].priceBandOutsidePct`, s.priceBandOutsidePct ?? '0'),
      noShort: bool(`symbols[${i}].noShort`, s.noShort ?? false),
      restricted: bool(`symbols[${i}].restricted`, s.restricted ?? false),
    };
  });

  const accounts = Array.isArray(merged.accounts) ? merged.accounts : fail('accounts', 'must be an array');
  const accountIds = new Set<number>();
  const apiKeys = new Set<string>();
  const outAccounts = accounts.map((a, i) => {
    if (!isObject(a)) fail(`accounts[${i}]`, 'must be an object');
    const id = intIn(`accounts[${i}].id`, a.id, 1, 65535);
    if (accountIds.has(id)) fail(`accounts[${i}].id`, `duplicate account id ${id}`);
    accountIds.add(id);
    // A key file (first line) keeps the secret out of the config file; it wins over apiKey.
    const keyText = a.apiKeyFile !== undefined ? readSecretFile(`accounts[${i}].apiKeyFile`, str(`accounts[${i}].apiKeyFile`, a.apiKeyFile, PATH, 'a file path')) : a.apiKey;
    const apiKey = str(`accounts[${i}].apiKey`, keyText, /^[\x21-\x7e]{8,128}$/, 'a printable key of 8 to 128 characters');
    if (apiKeys.has(apiKey)) fail(`accounts[${i}].apiKey`, 'duplicate API key');
    apiKeys.add(apiKey);
    return {
      id,
      name: str(`accounts[${i}].name`, a.name, NAME, 'a name of letters, digits, _ or -'),
      apiKey,
      maxOrderQty: intIn(`accounts[${i}].maxOrderQty`, a.maxOrderQty, 1, MAX_QTY),
      maxOrderNotional: decimal(`accounts[${i}].maxOrderNotional`, a.maxOrderNotional, Number.MAX_SAFE_INTEGER),
      enabled: bool(`accounts[${i}].enabled`, a.enabled),
      role: role(`accounts[${i}].role`, a.role),
      ...accountLimits(`accounts[${i}]`, a, symbolNames),
    };
  });

  const venues = Array.isArray(merged.venues) ? merged.venues : fail('venues', 'must be an array');
  if (venues.length > 64) fail('venues', 'at most 64 venues');
  const venueIds = new Set<number>();
  const outVenues = venues.map((v, i) => {
    if (!isObject(v)) fail(`venues[${i}]`, 'must be an object');
    for (const key of Object.keys(v)) if (!VENUE_KEYS.has(key)) fail(`venues[${i}].${key}`, 'is not a known setting');
    const id = intIn(`venues[${i}].id`, v.id, 1, 64);
    if (venueIds.has(id)) fail(`venues[${i}].id`, `duplicate venue id ${id}`);
    venueIds.add(id);
    return {
      id,
      name: str(`venues[${i}].name`, v.name, NAME, 'a name of letters, digits, _ or -'),
      host: str(`venues[${i}].host`, v.host, HOST, 'a host name or address'),
      port: intIn(`venues[${i}].port`, v.port, 1, 65535),
      senderCompId: str(`venues[${i}].senderCompId`, v.senderCompId, COMP_ID, 'a FIX CompID'),
      targetCompId: str(`venues[${i}].targetCompId`, v.targetCompId, COMP_ID, 'a FIX CompID'),
      heartBtIntS: intIn(`venues[${i}].heartBtIntS`, v.heartBtIntS, 1, 3600),
      feeBps: decimal(`venues[${i}].feeBps`, v.feeBps, 10_000 * PRICE_SCALE),
      latencyUs: numIn(`venues[${i}].latencyUs`, v.latencyUs, 1, 10_000_000),
      fillProbability: numIn(`venues[${i}].fillProbability`, v.fillProbability, 0, 1),
      minQty: intIn(`venues[${i}].minQty`, v.minQty ?? 0, 0, MAX_QTY),
      lotSize: intIn(`venues[${i}].lotSize`, v.lotSize ?? 1, 1, MAX_QTY),
      ...validateVenueSession(`venues[${i}]`, v, id),
    };
  });

  const sor = isObject(merged.sor) ? merged.sor : fail('sor', 'must be an object');
  const weights = isObject(sor.weights) ? sor.weights : fail('sor.weights', 'must be an object');
  const journal = isObject(merged.journal) ? merged.journal : fail('journal', 'must be an object');
  const fsync = journal.fsync;
  if (fsync !== 'none' && fsync !== 'batch' && fsync !== 'interval') fail('journal.fsync', `must be none, batch or interval, got ${JSON.stringify(fsync)}`);

  return {
    http: {
      host: str('http.host', http.host, HOST, 'a host'),
      port: intIn('http.port', http.port, 0, 65535),
      maxConnections: intIn('http.maxConnections', http.maxConnections, 1, 1_000_000),
      maxConnectionsPerAccount: intIn('http.maxConnectionsPerAccount', http.maxConnectionsPerAccount, 1, 1_000_000),
      maxFrameBytes: intIn('http.maxFrameBytes', http.maxFrameBytes, 256, 16 << 20),
      maxBodyBytes: intIn('http.maxBodyBytes', http.maxBodyBytes, 256, 16 << 20),
      maxBackpressureBytes: intIn('http.maxBackpressureBytes', http.maxBackpressureBytes, 4096, 1 << 30),
      idleTimeoutS: intIn('http.idleTimeoutS', http.idleTimeoutS, 8, 3600),
      heartbeatS: intIn('http.heartbeatS', http.heartbeatS, 1, 3600),
      cancelOnDisconnect: bool('http.cancelOnDisconnect', http.cancelOnDisconnect),
      rateLimit: {
        connectionMsgsPerS: intIn('http.rateLimit.connectionMsgsPerS', rate.connectionMsgsPerS, 1, 10_000_000),
        connectionBurst: intIn('http.rateLimit.connectionBurst', rate.connectionBurst, 1, 10_000_000),
        accountMsgsPerS: intIn('http.rateLimit.accountMsgsPerS', rate.accountMsgsPerS, 1, 10_000_000),
        accountBurst: intIn('http.rateLimit.accountBurst', rate.accountBurst, 1, 10_000_000),
        floodDisconnectAfter: intIn('http.rateLimit.floodDisconnectAfter', rate.floodDisconnectAfter, 1, 10_000_000),
      },
      tls: validateTls(http.tls),
    },
    fixAcceptor: validateFixAcceptor(fixAcceptor, accountIds),
    idle: { kind: idleKind, spins: intIn('idle.spins', idle.spins, 0, 1_000_000), maxSleepMs: numIn('idle.maxSleepMs', idle.maxSleepMs, 0.01, 1000) },
    threading: resolveThreading(oneOf('threading', merged.threading, THREADING_SETTINGS)),
    ringBytes,
    orderCapacity: intIn('orderCapacity', merged.orderCapacity, 16, 1 << 24),
    childCapacity: intIn('childCapacity', merged.childCapacity, 16, 1 << 24),
    symbols: outSymbols,
    accounts: outAccounts,
    venues: outVenues,
    sor: {
      weights: {
        price: numIn('sor.weights.price', weights.price, 0, 1),
        latency: numIn('sor.weights.latency', weights.latency, 0, 1),
        fillprob: numIn('sor.weights.fillprob', weights.fillprob, 0, 1),
        fee: numIn('sor.weights.fee', weights.fee, 0, 1),
      },
      quoteStaleMs: intIn('sor.quoteStaleMs', sor.quoteStaleMs, 1, 3_600_000),
      ...validateSorExtras(sor, outAccounts.map((a) => a.name), outVenues.map((v) => v.name)),
    },
    journal: {
      dir: str('journal.dir', journal.dir, /^[^\0]{1,4096}$/, 'a directory path'),
      fsync,
      fsyncIntervalMs: intIn('journal.fsyncIntervalMs', journal.fsyncIntervalMs, 1, 60_000),
      // At least the segment header and one largest frame (persistence/journal.ts MIN_SEGMENT_BYTES).
      segmentBytes: intIn('journal.segmentBytes', journal.segmentBytes ?? DEFAULT_CONFIG.journal.segmentBytes, 32 + 16 + 65536, 1 << 30),
      preallocate: bool('journal.preallocate', journal.preallocate ?? DEFAULT_CONFIG.journal.preallocate),
      snapshots: bool('journal.snapshots', journal.snapshots ?? DEFAULT_CONFIG.journal.snapshots),
      snapshotMinEvents: intIn('journal.snapshotMinEvents', journal.snapshotMinEvents ?? DEFAULT_CONFIG.journal.snapshotMinEvents, 0, 2 ** 31),
      snapshotEveryEvents: intIn('journal.snapshotEveryEvents', journal.snapshotEveryEvents ?? DEFAULT_CONFIG.journal.snapshotEveryEvents, 0, 2 ** 31),
      snapshotCheckMs: intIn('journal.snapshotCheckMs', journal.snapshotCheckMs ?? DEFAULT_CONFIG.journal.snapshotCheckMs, 10, 3_600_000),
      snapshotWriteMiBPerS: intIn('journal.snapshotWriteMiBPerS', journal.snapshotWriteMiBPerS ?? DEFAULT_CONFIG.journal.snapshotWriteMiBPerS, 0, 65_536),
      ...validateRetention(journal),
    },
    sinks: validateSinks(merged.sinks),
    watchdogMs: intIn('watchdogMs', merged.watchdogMs, 100, 600_000),
    ...validateObservability(merged),
    ...validateRiskSettings(merged),
  };
}

/** Account names by account id ('' where no account has the id): the fix stage's list. */
export function accountNamesById(config: EngineConfig): string[] {
  const accounts: string[] = [];
  for (const a of config.accounts) {
    while (accounts.length <= a.id) accounts.push('');
    accounts[a.id] = a.name;
  }
  return accounts;
}

/** A percentage string's shape: up to 3 integer digits and 2 decimals (the caller checks <= 100). */
export const PERCENT = /^\d{1,3}(\.\d{1,2})?$/;

/** A percentage with at most two decimals, 0 to 100 ("5", "2.5"), so its basis points are exact. */
function percent(path: string, v: unknown): string {
  const s = str(path, v, PERCENT, 'a percentage such as "5" or "2.5"');
  if (Number(s) > 100) fail(path, `must be at most 100, got ${s}`);
  return s;
}

/** Basis points of a validated percentage string ("2.5" -> 250). */
export function percentToBps(s: string): number {
  return Math.round(decimalToTicks(s) / (PRICE_SCALE / 100));
}

type AccountLimitKeys = 'creditLimit' | 'maxPosition' | 'ordersPerS' | 'orderBurst' | 'msgsPerS' | 'msgBurst' | 'allowShort' | 'duplicateWindowMs' | 'restrictedSymbols';

/** An account's pre-trade limits: the file's values over ACCOUNT_LIMIT_DEFAULTS. */
function accountLimits(at: string, a: Record<string, unknown>, symbolNames: Set<string>): Required<Pick<AccountConfig, AccountLimitKeys>> {
  const d = ACCOUNT_LIMIT_DEFAULTS;
  const restricted = a.restrictedSymbols ?? [];
  if (!Array.isArray(restricted)) fail(`${at}.restrictedSymbols`, 'must be an array of symbol names');
  for (const [k, name] of restricted.entries()) {
    if (typeof name !== 'string' || !symbolNames.has(name)) fail(`${at}.restrictedSymbols[${k}]`, `must be a configured symbol, got ${JSON.stringify(name)}`);
  }
  return {
    creditLimit: decimal(`${at}.creditLimit`, a.creditLimit ?? d.creditLimit, Number.MAX_SAFE_INTEGER),
    maxPosition: intIn(`${at}.maxPosition`, a.maxPosition ?? d.maxPosition, 0, MAX_QTY * 100),
    ordersPerS: intIn(`${at}.ordersPerS`, a.ordersPerS ?? d.ordersPerS, 1, 10_000_000),
    orderBurst: intIn(`${at}.orderBurst`, a.orderBurst ?? d.orderBurst, 1, 10_000_000),
    msgsPerS: intIn(`${at}.msgsPerS`, a.msgsPerS ?? d.msgsPerS, 1, 10_000_000),
    msgBurst: intIn(`${at}.msgBurst`, a.msgBurst ?? d.msgBurst, 1, 10_000_000),
    allowShort: bool(`${at}.allowShort`, a.allowShort ?? d.allowShort),
    duplicateWindowMs: intIn(`${at}.duplicateWindowMs`, a.duplicateWindowMs ?? d.duplicateWindowMs, 0, 60_000),
    restrictedSymbols: restricted as string[],
  };
}

/** session and risk: regular hours, DAY expiry and the risk stage's market-data settings. */
function validateRiskSettings(merged: Record<string, unknown>): { session: SessionSettings; risk: RiskSettings } {
  const s = section('session', merged.session, DEFAULT_CONFIG.session);
  const r = section('risk', merged.risk, DEFAULT_CONFIG.risk);
  const open = str('session.open', s.open, /^([01]\d|2[0-3]):[0-5]\d$/, 'a time "HH:MM"');
  const close = str('session.close', s.close, /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time "HH:MM"');
  if (!(open < close)) fail('session.close', `must be after session.open (${open}), got ${close}`);
  return {
    session: {
      utcOffsetMinutes: intIn('session.utcOffsetMinutes', s.utcOffsetMinutes, -720, 840),
      open,
      close,
      expireDayOrders: bool('session.expireDayOrders', s.expireDayOrders),
    },
    risk: {
      quoteFreshMs: intIn('risk.quoteFreshMs', r.quoteFreshMs, 1, 3_600_000),
      markIntervalMs: intIn('risk.markIntervalMs', r.markIntervalMs, 10, 3_600_000),
    },
  };
}

const PATH = /^[^\0]{1,4096}$/;

/**
 * journal.retention, .archiveDir, .retentionCheckMs. Pruning needs snapshots: without them a
 * start replays the whole journal, so no segment is ever safe to take away.
 */
function validateRetention(journal: Record<string, unknown>): Pick<EngineConfig['journal'], 'retention' | 'archiveDir' | 'retentionCheckMs'> {
  const d = DEFAULT_CONFIG.journal;
  const retention = oneOf('journal.retention', journal.retention ?? d.retention, RETENTION_MODES);
  if (retention !== 'keep' && (journal.snapshots ?? d.snapshots) === false) {
    fail('journal.retention', `${retention} needs journal.snapshots true (without snapshots every start replays the whole journal)`);
  }
  const archiveDir = journal.archiveDir ?? d.archiveDir;
  if (typeof archiveDir === 'string' && typeof journal.dir === 'string' && resolve(archiveDir) === resolve(journal.dir)) {
    fail('journal.archiveDir', 'must not be journal.dir itself (a segment archived there would stay in the journal)');
  }
  return {
    retention,
    archiveDir: archiveDir === null ? null : str('journal.archiveDir', archiveDir, PATH, 'a directory path or null'),
    retentionCheckMs: intIn('journal.retentionCheckMs', journal.retentionCheckMs ?? d.retentionCheckMs, 1000, 86_400_000),
  };
}

/** sinks: the Postgres and Kafka sinks (each off unless its url / brokers are set). */
function validateSinks(v: unknown): SinksConfig {
  const s = section('sinks', v, DEFAULT_SINKS);
  const pg = section('sinks.postgres', s.postgres, DEFAULT_SINKS.postgres);
  const kafka = section('sinks.kafka', s.kafka, DEFAULT_SINKS.kafka);
  const url = pg.url === null ? null : str('sinks.postgres.url', pg.url, /^postgres(ql)?:\/\/[^\s]{1,4000}$/, 'a postgres:// URL or null');
  if (!Array.isArray(kafka.brokers) || kafka.brokers.length > 64) fail('sinks.kafka.brokers', 'must be an array of up to 64 host:port strings');
  const brokers = kafka.brokers.map((b: unknown, i: number) => str(`sinks.kafka.brokers[${i}]`, b, /^[A-Za-z0-9.\-:\[\]]{1,253}:\d{1,5}$/, 'host:port'));
  const out: SinksConfig = {
    postgres: {
      url,
      batchEvents: intIn('sinks.postgres.batchEvents', pg.batchEvents, 1, 100_000),
      lingerMs: intIn('sinks.postgres.lingerMs', pg.lingerMs, 0, 60_000),
      sinkName: str('sinks.postgres.sinkName', pg.sinkName, NAME, 'a name of letters, digits, _ or -'),
    },
    kafka: {
      brokers,
      clientId: str('sinks.kafka.clientId', kafka.clientId, NAME, 'a name of letters, digits, _ or -'),
      batchEvents: intIn('sinks.kafka.batchEvents', kafka.batchEvents, 1, 100_000),
      lingerMs: intIn('sinks.kafka.lingerMs', kafka.lingerMs, 0, 60_000),
      cursorEveryMs: intIn('sinks.kafka.cursorEveryMs', kafka.cursorEveryMs, 0, 60_000),
      sinkName: str('sinks.kafka.sinkName', kafka.sinkName, NAME, 'a name of letters, digits, _ or -'),
    },
    pollMs: intIn('sinks.pollMs', s.pollMs, 1, 60_000),
    backoffMinMs: intIn('sinks.backoffMinMs', s.backoffMinMs, 1, 600_000),
    backoffMaxMs: intIn('sinks.backoffMaxMs', s.backoffMaxMs, 1, 600_000),
    nice: intIn('sinks.nice', s.nice, 0, 19),
    schedIdle: bool('sinks.schedIdle', s.schedIdle),
  };
  if (out.backoffMaxMs < out.backoffMinMs) fail('sinks.backoffMaxMs', 'must be at least sinks.backoffMinMs');
  return out;
}

/** http.tls: null, or the PEM files (each must be readable now: a typo fails at start-up, not at the first client). */
function validateTls(v: unknown, at = 'http.tls'): TlsConfig | null {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) fail(at, 'must be null or {certFile, keyFile, passphraseFile?}');
  for (const key of Object.keys(v)) if (key !== 'certFile' && key !== 'keyFile' && key !== 'passphraseFile') fail(`${at}.${key}`, 'is not a known setting');
  const out: TlsConfig = {
    certFile: readableFile(`${at}.certFile`, v.certFile),
    keyFile: readableFile(`${at}.keyFile`, v.keyFile),
  };
  if (v.passphraseFile !== undefined) out.passphraseFile = readableFile(`${at}.passphraseFile`, v.passphraseFile);
  return out;
}

/** The PEM files of a TlsConfig read into node:tls options (the passphrase is the file's first line). */
export function readTlsFiles(tls: TlsConfig): { key: Buffer; cert: Buffer; passphrase?: string } {
  const out: { key: Buffer; cert: Buffer; passphrase?: string } = { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) };
  if (tls.passphraseFile !== undefined) out.passphrase = readSecretFile('fixAcceptor.tls.passphraseFile', tls.passphraseFile);
  return out;
}

function readableFile(path: string, v: unknown): string {
  const file = str(path, v, PATH, 'a file path');
  try {
    accessSync(file, fsConstants.R_OK);
  } catch {
    fail(path, `cannot read ${JSON.stringify(file)}`);
  }
  return file;
}

/** The first line of a secret file (API key, password, passphrase): secrets stay out of config files. */
export function readSecretFile(path: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${path}: cannot read ${JSON.stringify(file)} (${(err as Error).message})`);
  }
  return text.split(/\r?\n/, 1)[0];
}

function validateObservability(merged: Record<string, unknown>): { metrics: MetricsConfig; log: { level: LogLevel } } {
  const metrics = section('metrics', merged.metrics, DEFAULT_CONFIG.metrics);
  const log = section('log', merged.log, DEFAULT_CONFIG.log);
  const level = oneOf('log.level', log.level, LOG_LEVELS);
  return {
    metrics: { host: str('metrics.host', metrics.host, HOST, 'a host'), port: intIn('metrics.port', metrics.port, 0, 65535) },
    log: { level },
  };
}

/** venues[].cancelAckTimeoutMs when absent. */
export const DEFAULT_CANCEL_ACK_TIMEOUT_MS = 5_000;

const VENUE_KEYS = new Set([
  'id', 'name', 'host', 'port', 'senderCompId', 'targetCompId', 'heartBtIntS', 'feeBps', 'latencyUs', 'fillProbability', 'minQty', 'lotSize',
  'storeDir', 'reconnectMinMs', 'reconnectMaxMs', 'reconnectJitter', 'reconnectSeed', 'schedule', 'resetOnLogon', 'cancelAckTimeoutMs', 'tls',
]);

const FIX_SESSION_KEYS = new Set(['senderCompId', 'targetCompId', 'accountId', 'password', 'passwordFile', 'heartBtIntS', 'resetOnLogon', 'storeDir', 'schedule']);

/** A FIX session schedule setting (absent: none). */
function schedule(path: string, v: unknown): SessionScheduleConfig | undefined {
  if (v === undefined) return undefined;
  try {
    return validateSchedule(v);
  } catch (err) {
    fail(path, (err as Error).message);
  }
}

/** The FIX session settings of venues[i]: store, reconnect back-off, schedule, reset on logon, cancel answer timeout (all optional). */
function validateVenueSession(at: string, v: Record<string, unknown>, id: number): Partial<VenueConfig> {
  const out: Partial<VenueConfig> = {
    resetOnLogon: bool(`${at}.resetOnLogon`, v.resetOnLogon ?? false),
    reconnectMinMs: intIn(`${at}.reconnectMinMs`, v.reconnectMinMs ?? 100, 1, 600_000),
    reconnectMaxMs: intIn(`${at}.reconnectMaxMs`, v.reconnectMaxMs ?? 5_000, 1, 3_600_000),
    reconnectJitter: numIn(`${at}.reconnectJitter`, v.reconnectJitter ?? 0.2, 0, 1),
    reconnectSeed: intIn(`${at}.reconnectSeed`, v.reconnectSeed ?? id, 0, 0xffffffff),
    cancelAckTimeoutMs: intIn(`${at}.cancelAckTimeoutMs`, v.cancelAckTimeoutMs ?? DEFAULT_CANCEL_ACK_TIMEOUT_MS, 0, 3_600_000),
  };
  if (out.reconnectMaxMs! < out.reconnectMinMs!) fail(`${at}.reconnectMaxMs`, `must be >= reconnectMinMs (${out.reconnectMinMs})`);
  if (v.storeDir !== undefined) out.storeDir = str(`${at}.storeDir`, v.storeDir, /^[^\0]{1,4096}$/, 'a directory path');
  const sched = schedule(`${at}.schedule`, v.schedule);
  if (sched !== undefined) out.schedule = sched;
  if (v.tls !== undefined && v.tls !== null) out.tls = validateVenueTls(`${at}.tls`, v.tls);
  return out;
}

const VENUE_TLS_KEYS = new Set(['caFile', 'certFile', 'keyFile', 'passphraseFile', 'servername', 'rejectUnauthorized']);

/** venues[i].tls: the files must be readable now (a typo fails at start-up, not at the first connect). */
function validateVenueTls(at: string, v: unknown): VenueTlsConfig {
  if (!isObject(v)) fail(at, 'must be null or {caFile?, certFile?, keyFile?, passphraseFile?, servername?, rejectUnauthorized?}');
  for (const key of Object.keys(v)) if (!VENUE_TLS_KEYS.has(key)) fail(`${at}.${key}`, 'is not a known setting');
  if ((v.certFile === undefined) !== (v.keyFile === undefined)) fail(v.certFile === undefined ? `${at}.certFile` : `${at}.keyFile`, 'certFile and keyFile go together (a client certificate needs its key)');
  if (v.passphraseFile !== undefined && v.keyFile === undefined) fail(`${at}.passphraseFile`, 'needs keyFile');
  const out: VenueTlsConfig = { rejectUnauthorized: bool(`${at}.rejectUnauthorized`, v.rejectUnauthorized ?? true) };
  if (v.caFile !== undefined) out.caFile = readableFile(`${at}.caFile`, v.caFile);
  if (v.certFile !== undefined) out.certFile = readableFile(`${at}.certFile`, v.certFile);
  if (v.keyFile !== undefined) out.keyFile = readableFile(`${at}.keyFile`, v.keyFile);
  if (v.passphraseFile !== undefined) out.passphraseFile = readableFile(`${at}.passphraseFile`, v.passphraseFile);
  if (v.servername !== undefined) out.servername = str(`${at}.servername`, v.servername, /^[A-Za-z0-9.\-]{1,253}$/, 'a DNS name');
  return out;
}

/** node:tls connect options of a venue's TLS settings: reads the PEM files (start-up only). */
export function readVenueTlsFiles(tls: VenueTlsConfig): { ca?: Buffer; cert?: Buffer; key?: Buffer; passphrase?: string; servername?: string; rejectUnauthorized: boolean } {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer; passphrase?: string; servername?: string; rejectUnauthorized: boolean } = { rejectUnauthorized: tls.rejectUnauthorized };
  if (tls.caFile !== undefined) out.ca = readFileSync(tls.caFile);
  if (tls.certFile !== undefined) out.cert = readFileSync(tls.certFile);
  if (tls.keyFile !== undefined) out.key = readFileSync(tls.keyFile);
  if (tls.passphraseFile !== undefined) out.passphrase = readSecretFile('venues[].tls.passphraseFile', tls.passphraseFile);
  if (tls.servername !== undefined) out.servername = tls.servername;
  return out;
}

/** fixAcceptor: listener and client sessions; each (senderCompId, targetCompId) pair once. */
function validateFixAcceptor(v: Record<string, unknown>, accountIds: Set<number>): FixAcceptorConfig {
  for (const key of Object.keys(v)) if (key !== 'host' && key !== 'port' && key !== 'sessions' && key !== 'tls') fail(`fixAcceptor.${key}`, 'is not a known setting');
  const rawSessions = v.sessions === undefined ? DEFAULT_CONFIG.fixAcceptor.sessions : v.sessions;
  if (!Array.isArray(rawSessions)) fail('fixAcceptor.sessions', 'must be an array');
  if (rawSessions.length > 1024) fail('fixAcceptor.sessions', 'at most 1024 sessions');
  const pairs = new Set<string>();
  const sessions = rawSessions.map((s, i): FixClientSessionConfig => {
    const at = `fixAcceptor.sessions[${i}]`;
    if (!isObject(s)) fail(at, 'must be an object');
    for (const key of Object.keys(s)) if (!FIX_SESSION_KEYS.has(key)) fail(`${at}.${key}`, 'is not a known setting');
    const senderCompId = str(`${at}.senderCompId`, s.senderCompId, COMP_ID, 'a FIX CompID');
    const targetCompId = str(`${at}.targetCompId`, s.targetCompId, COMP_ID, 'a FIX CompID');
    const pair = `${senderCompId}->${targetCompId}`;
    if (pairs.has(pair)) fail(`${at}.senderCompId`, `duplicate session ${pair}`);
    pairs.add(pair);
    const accountId = intIn(`${at}.accountId`, s.accountId, 1, 65535);
    if (!accountIds.has(accountId)) fail(`${at}.accountId`, `no account with id ${accountId}`);
    const out: FixClientSessionConfig = {
      senderCompId,
      targetCompId,
      accountId,
      heartBtIntS: intIn(`${at}.heartBtIntS`, s.heartBtIntS ?? 30, 1, 3600),
      resetOnLogon: bool(`${at}.resetOnLogon`, s.resetOnLogon ?? false),
    };
    if (s.passwordFile !== undefined) out.password = readSecretFile(`${at}.passwordFile`, str(`${at}.passwordFile`, s.passwordFile, PATH, 'a file path'));
    else if (s.password !== undefined) out.password = str(`${at}.password`, s.password, /^[\x20-\x7e]{1,64}$/, 'printable ASCII of 1 to 64 characters');
    if (s.storeDir !== undefined) out.storeDir = str(`${at}.storeDir`, s.storeDir, /^[^\0]{1,4096}$/, 'a directory path');
    const sched = schedule(`${at}.schedule`, s.schedule);
    if (sched !== undefined) out.schedule = sched;
    return out;
  });
  return {
    host: str('fixAcceptor.host', v.host ?? DEFAULT_CONFIG.fixAcceptor.host, HOST, 'a host'),
    port: intIn('fixAcceptor.port', v.port ?? DEFAULT_CONFIG.fixAcceptor.port, 0, 65535),
    sessions,
    tls: validateTls(v.tls, 'fixAcceptor.tls'),
  };
}

/** Environment variables that override the file, each validated like the file's values. */
export const ENV_OVERRIDES = ['HTTP_HOST', 'HTTP_PORT', 'FIX_HOST', 'FIX_PORT', 'IDLE_STRATEGY', 'THREADING', 'RING_BYTES', 'JOURNAL_DIR', 'JOURNAL_FSYNC',
  'JOURNAL_SEGMENT_BYTES', 'JOURNAL_RETENTION', 'DATABASE_URL', 'KAFKA_BROKERS', 'METRICS_HOST', 'METRICS_PORT', 'LOG_LEVEL', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_PASSPHRASE_FILE', 'API_KEY_<ACCOUNT NAME>'] as const;

/** The environment variable that overrides an account's API key: API_KEY_ + its name, upper case, - as _. */
export function apiKeyEnvName(accountName: string): string {
  return `API_KEY_${accountName.toUpperCase().replace(/-/g, '_')}`;
}

function envInt(name: string, value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new ConfigError(`env ${name}: must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Loads defaults, then the file (if any), then env overrides; validates the result. */
export function loadConfig(env: NodeJS.ProcessEnv, filePath: string | undefined): EngineConfig {
  let raw: Record<string, unknown> = {};
  if (filePath !== undefined) {
    let text: string;
    try {
      text = readFileSync(filePath, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${filePath}: cannot be read (${(err as Error).message})`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${filePath}: not valid JSON (${(err as Error).message})`);
    }
    if (!isObject(raw)) throw new ConfigError(`config file ${filePath}: must hold a JSON object`);
  }
  const base = validateConfig(raw);
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  const http = { ...base.http };
  const fixAcceptor = { ...base.fixAcceptor };
  const idle = { ...base.idle } as Record<string, unknown>;
  const journal = { ...base.journal } as Record<string, unknown>;
  if (env.HTTP_HOST !== undefined) http.host = env.HTTP_HOST;
  if (env.HTTP_PORT !== undefined) http.port = envInt('HTTP_PORT', env.HTTP_PORT);
  if (env.FIX_HOST !== undefined) fixAcceptor.host = env.FIX_HOST;
  if (env.FIX_PORT !== undefined) fixAcceptor.port = envInt('FIX_PORT', env.FIX_PORT);
  if (env.IDLE_STRATEGY !== undefined) idle.kind = env.IDLE_STRATEGY;
  if (env.THREADING !== undefined) out.threading = env.THREADING;
  if (env.RING_BYTES !== undefined) out.ringBytes = envInt('RING_BYTES', env.RING_BYTES);
  if (env.JOURNAL_DIR !== undefined) journal.dir = env.JOURNAL_DIR;
  if (env.JOURNAL_FSYNC !== undefined) journal.fsync = env.JOURNAL_FSYNC;
  if (env.JOURNAL_SEGMENT_BYTES !== undefined) journal.segmentBytes = envInt('JOURNAL_SEGMENT_BYTES', env.JOURNAL_SEGMENT_BYTES);
  if (env.JOURNAL_RETENTION !== undefined) journal.retention = env.JOURNAL_RETENTION;
  // Sinks: DATABASE_URL selects the database, KAFKA_BROKERS (comma-separated) the cluster.
  const sinks = structuredClone(base.sinks);
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== '') sinks.postgres.url = env.DATABASE_URL;
  if (env.KAFKA_BROKERS !== undefined && env.KAFKA_BROKERS !== '') sinks.kafka.brokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  out.sinks = sinks;
  const metrics = { ...base.metrics } as Record<string, unknown>;
  if (env.METRICS_HOST !== undefined) metrics.host = env.METRICS_HOST;
  if (env.METRICS_PORT !== undefined) metrics.port = envInt('METRICS_PORT', env.METRICS_PORT);
  out.metrics = metrics;
  if (env.LOG_LEVEL !== undefined) out.log = { level: env.LOG_LEVEL };
  if (env.TLS_CERT_FILE !== undefined || env.TLS_KEY_FILE !== undefined || env.TLS_PASSPHRASE_FILE !== undefined) {
    const tls: Record<string, unknown> = { ...base.http.tls };
    if (env.TLS_CERT_FILE !== undefined) tls.certFile = env.TLS_CERT_FILE;
    if (env.TLS_KEY_FILE !== undefined) tls.keyFile = env.TLS_KEY_FILE;
    if (env.TLS_PASSPHRASE_FILE !== undefined) tls.passphraseFile = env.TLS_PASSPHRASE_FILE;
    (http as Record<string, unknown>).tls = tls;
  }
  out.accounts = base.accounts.map((a) => ({ ...a, apiKey: env[apiKeyEnvName(a.name)] ?? a.apiKey }));
  out.http = http;
  out.fixAcceptor = fixAcceptor;
  out.idle = idle;
  out.journal = journal;
  try {
    return validateConfig(out);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (after environment overrides)`);
  }
}

/** Venue fee in hundredths of a basis point, as the SOR scores it ("0.25" -> 25: percentToBps's arithmetic). */
export function feeCentiBps(feeBps: string): number {
  return percentToBps(feeBps);
}

/** sor.* beyond weights and staleness (modes, staged timing, collar, constraints). */
function validateSorExtras(sor: Record<string, unknown>, accounts: string[], venues: string[]): Omit<SorSettingsConfig, 'weights' | 'quoteStaleMs'> {
  const d = DEFAULT_CONFIG.sor;
  const known = new Set(Object.keys(d));
  for (const key of Object.keys(sor)) if (!known.has(key)) fail(`sor.${key}`, 'is not a known setting');
  const mode = sor.mode ?? d.mode;
  if (mode !== 'SINGLE_BEST' && mode !== 'SPLIT' && mode !== 'STAGED') fail('sor.mode', `must be SINGLE_BEST, SPLIT or STAGED, got ${JSON.stringify(mode)}`);
  const tickSize = decimal('sor.tickSize', sor.tickSize ?? d.tickSize, MAX_PRICE_TICKS);
  if (decimalToTicks(tickSize) <= 0) fail('sor.tickSize', 'must be positive');
  const rawDisallowed = sor.disallowedVenues ?? d.disallowedVenues;
  if (!isObject(rawDisallowed)) fail('sor.disallowedVenues', 'must be an object of account name -> venue names');
  const disallowedVenues: Record<string, string[]> = {};
  for (const [account, list] of Object.entries(rawDisallowed)) {
    if (!accounts.includes(account)) fail(`sor.disallowedVenues.${account}`, 'is not an account name');
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && venues.includes(v))) fail(`sor.disallowedVenues.${account}`, `must list venue names (${venues.join(', ')})`);
    disallowedVenues[account] = list as string[];
  }
  return {
    mode,
    stagedFallbackMs: intIn('sor.stagedFallbackMs', sor.stagedFallbackMs ?? d.stagedFallbackMs, 1, 3_600_000),
    maxSteps: intIn('sor.maxSteps', sor.maxSteps ?? d.maxSteps, 1, 64),
    collarBps: intIn('sor.collarBps', sor.collarBps ?? d.collarBps, 0, 10_000),
    tickSize,
    statsAlpha: numIn('sor.statsAlpha', sor.statsAlpha ?? d.statsAlpha, 0.000001, 1),
    planCapacity: intIn('sor.planCapacity', sor.planCapacity ?? d.planCapacity, 16, 1 << 24),
    disallowedVenues,
  };
}
