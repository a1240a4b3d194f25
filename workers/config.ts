/**
 * Engine configuration: embedded defaults, then a JSON file (CONFIG_FILE or --config), then
 * environment overrides. Every value is validated here, at start-up, with an error that names
 * the setting; nothing downstream re-checks config. The README's configuration reference lists
 * the same keys.
 */

import { readFileSync } from 'node:fs';
import { IDLE_KINDS, isIdleKind, type IdleKind } from '../engine/idle.ts';
import { MAX_PRICE_TICKS, MAX_QTY, PRICE_SCALE, INVALID } from '../engine/fixed-point.ts';
import { parseDecimalTicks } from '../engine/fixed-point.ts';

export interface SymbolConfig {
  name: string;
  /** Reference price (e.g. previous close) as a decimal string: the notional of market orders. */
  referencePrice: string;
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
}

export type FsyncPolicy = 'none' | 'batch' | 'interval';

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
}

export interface FixAcceptorConfig {
  host: string;
  port: number;
  sessions: FixClientSessionConfig[];
}

export interface EngineConfig {
  http: HttpConfig;
  fixAcceptor: FixAcceptorConfig;
  idle: { kind: IdleKind; spins: number; maxSleepMs: number };
  ringBytes: number;
  orderCapacity: number;
  childCapacity: number;
  symbols: SymbolConfig[];
  accounts: AccountConfig[];
  venues: VenueConfig[];
  sor: { weights: { price: number; latency: number; fillprob: number; fee: number }; quoteStaleMs: number };
  journal: { dir: string; fsync: FsyncPolicy; fsyncIntervalMs: number };
  /** Milliseconds a worker may go without a heartbeat before the engine is declared unsafe. */
  watchdogMs: number;
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
  },
  fixAcceptor: {
    host: '127.0.0.1',
    port: 9878,
    sessions: [{ senderCompId: 'CLIENT1', targetCompId: 'OMS', accountId: 1, heartBtIntS: 30, resetOnLogon: false }],
  },
  idle: { kind: 'park', spins: 200, maxSleepMs: 50 },
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
  sor: { weights: { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 }, quoteStaleMs: 2000 },
  journal: { dir: 'data/journal', fsync: 'batch', fsyncIntervalMs: 10 },
  watchdogMs: 5000,
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

function decimal(path: string, v: unknown, maxTicks: number): string {
  const s = str(path, v, /^\d{1,12}(\.\d{1,6})?$/, 'a decimal string such as "177.25"');
  const bytes = Buffer.from(s, 'latin1');
  if (parseDecimalTicks(bytes, 0, bytes.length, maxTicks) === INVALID) fail(path, `out of range: ${s}`);
  return s;
}

export function decimalToTicks(s: string): number {
  const bytes = Buffer.from(s, 'latin1');
  return parseDecimalTicks(bytes, 0, bytes.length, Number.MAX_SAFE_INTEGER);
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
  if (!isIdleKind(idle.kind)) fail('idle.kind', `must be one of ${IDLE_KINDS.join(', ')}, got ${JSON.stringify(idle.kind)}`);
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
    return { name, referencePrice: decimal(`symbols[${i}].referencePrice`, s.referencePrice, MAX_PRICE_TICKS) };
  });

  const accounts = Array.isArray(merged.accounts) ? merged.accounts : fail('accounts', 'must be an array');
  const accountIds = new Set<number>();
  const apiKeys = new Set<string>();
  const outAccounts = accounts.map((a, i) => {
    if (!isObject(a)) fail(`accounts[${i}]`, 'must be an object');
    const id = intIn(`accounts[${i}].id`, a.id, 1, 65535);
    if (accountIds.has(id)) fail(`accounts[${i}].id`, `duplicate account id ${id}`);
    accountIds.add(id);
    const apiKey = str(`accounts[${i}].apiKey`, a.apiKey, /^[\x21-\x7e]{8,128}$/, 'a printable key of 8 to 128 characters');
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
    };
  });

  const venues = Array.isArray(merged.venues) ? merged.venues : fail('venues', 'must be an array');
  if (venues.length > 64) fail('venues', 'at most 64 venues');
  const venueIds = new Set<number>();
  const outVenues = venues.map((v, i) => {
    if (!isObject(v)) fail(`venues[${i}]`, 'must be an object');
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
    },
    fixAcceptor: validateFixAcceptor(fixAcceptor, accountIds),
    idle: { kind: idle.kind, spins: intIn('idle.spins', idle.spins, 0, 1_000_000), maxSleepMs: numIn('idle.maxSleepMs', idle.maxSleepMs, 0.01, 1000) },
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
    },
    journal: {
      dir: str('journal.dir', journal.dir, /^[^\0]{1,4096}$/, 'a directory path'),
      fsync,
      fsyncIntervalMs: intIn('journal.fsyncIntervalMs', journal.fsyncIntervalMs, 1, 60_000),
    },
    watchdogMs: intIn('watchdogMs', merged.watchdogMs, 100, 600_000),
  };
}

const FIX_SESSION_KEYS = new Set(['senderCompId', 'targetCompId', 'accountId', 'password', 'heartBtIntS', 'resetOnLogon', 'storeDir']);

/** fixAcceptor: listener and client sessions; each (senderCompId, targetCompId) pair once. */
function validateFixAcceptor(v: Record<string, unknown>, accountIds: Set<number>): FixAcceptorConfig {
  for (const key of Object.keys(v)) if (key !== 'host' && key !== 'port' && key !== 'sessions') fail(`fixAcceptor.${key}`, 'is not a known setting');
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
    if (s.password !== undefined) out.password = str(`${at}.password`, s.password, /^[\x20-\x7e]{1,64}$/, 'printable ASCII of 1 to 64 characters');
    if (s.storeDir !== undefined) out.storeDir = str(`${at}.storeDir`, s.storeDir, /^[^\0]{1,4096}$/, 'a directory path');
    return out;
  });
  return {
    host: str('fixAcceptor.host', v.host ?? DEFAULT_CONFIG.fixAcceptor.host, HOST, 'a host'),
    port: intIn('fixAcceptor.port', v.port ?? DEFAULT_CONFIG.fixAcceptor.port, 0, 65535),
    sessions,
  };
}

/** Environment variables that override the file, each validated like the file's values. */
export const ENV_OVERRIDES = ['HTTP_HOST', 'HTTP_PORT', 'FIX_HOST', 'FIX_PORT', 'IDLE_STRATEGY', 'RING_BYTES', 'JOURNAL_DIR', 'JOURNAL_FSYNC'] as const;

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
  if (env.RING_BYTES !== undefined) out.ringBytes = envInt('RING_BYTES', env.RING_BYTES);
  if (env.JOURNAL_DIR !== undefined) journal.dir = env.JOURNAL_DIR;
  if (env.JOURNAL_FSYNC !== undefined) journal.fsync = env.JOURNAL_FSYNC;
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

/** Venue fee in hundredths of a basis point, as the SOR scores it. */
export function feeCentiBps(feeBps: string): number {
  return Math.round(decimalToTicks(feeBps) / (PRICE_SCALE / 100));
}
