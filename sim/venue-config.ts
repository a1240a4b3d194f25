/**
 * Command-line and environment configuration of a venue process, validated up front.
 * Every option is `--name value` or the environment variable VENUE_<NAME> (upper case, '-' -> '_');
 * the command line wins. Allocates freely: runs once at start.
 */
import { INVALID, MAX_PRICE_TICKS, ticksFromDecimalString } from '../engine/fixed-point.ts';
import type { SymbolConfig } from './venue-core.ts';

export interface VenueConfig {
  host: string;
  port: number;
  name: string;
  compId: string;
  clients: string[];
  seed: number;
  feeBps: number;
  latencyMs: number;
  rejectProbability: number;
  symbols: SymbolConfig[];
  tickSizeTicks: number;
  mmLevels: number;
  mmQty: number;
  mmStepMs: number;
  mmMaxStepTicks: number;
  /** Half-spread of the market maker's best quotes, in tick sizes. */
  mmHalfSpread: number;
  /** Seed of the reference walk shared by every venue of the simulated market; 0 = the venue's own walk. */
  marketSeed: number;
  /** Market data (35=W) conflation interval; 0 = no market data. */
  mdIntervalMs: number;
  /** Scheduled outages: every outageEveryMs the venue drops its sessions for outageMs (0 = never). */
  outageEveryMs: number;
  outageMs: number;
  /** FIX over TLS: PEM certificate chain and private key files (both or neither); null = plain TCP. */
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  /** File whose first line is the key's passphrase; null = unencrypted key. */
  tlsPassphraseFile: string | null;
}

export const DEFAULT_SYMBOLS = 'AAPL:190.00,MSFT:420.00,TSLA:250.00,GOOGL:170.00,AMZN:185.00';

export const VENUE_USAGE = `usage: node sim/venue.ts [options]   (or env VENUE_<OPTION>)
  --port N           TCP port on --host; 0 picks a free one      (default 9101)
  --host ADDR        listen address                              (default 127.0.0.1)
  --name NAME        venue name, used in OrderID/ExecID          (default V1)
  --comp-id ID       our SenderCompID                            (default = name)
  --clients A,B      accepted counterparty CompIDs               (default OMS)
  --seed N           PRNG seed (market maker walk, rejects)      (default 1)
  --fee-bps X        fee per fill, basis points (Commission 12)  (default 0)
  --latency-ms N     delay before each execution report          (default 0)
  --reject-prob P    probability a valid order is rejected       (default 0)
  --symbols S:P,...  symbols and start prices                    (default ${DEFAULT_SYMBOLS})
  --tick X           price increment                             (default 0.01)
  --mm-levels N      market-maker levels per side                (default 5)
  --mm-qty N         base quantity per level                     (default 100)
  --mm-step-ms N     random-walk step period                     (default 100)
  --mm-max-step N    largest walk step, in ticks                 (default 1)
  --mm-half-spread N best quotes' distance from the mid, ticks   (default 1)
  --market-seed N    shared walk seed of the market; 0 = own     (default 0)
  --md-interval-ms N market data (35=W) conflation; 0 = off      (default 50)
  --outage-every-ms N  scheduled outage period; 0 = never        (default 0)
  --outage-ms N      length of each outage (sessions dropped)    (default 1000)
  --tls-cert FILE    FIX over TLS: PEM certificate chain         (default none: plain TCP)
  --tls-key FILE     FIX over TLS: PEM private key (with --tls-cert)
  --tls-passphrase-file FILE  first line = the key's passphrase  (default none)`;

const OPTIONS = [
  'port', 'host', 'name', 'comp-id', 'clients', 'seed', 'fee-bps', 'latency-ms', 'reject-prob', 'symbols', 'tick', 'mm-levels', 'mm-qty', 'mm-step-ms', 'mm-max-step',
  'mm-half-spread', 'market-seed', 'md-interval-ms', 'outage-every-ms', 'outage-ms', 'tls-cert', 'tls-key', 'tls-passphrase-file',
];
const ID_RE = /^[A-Za-z0-9_.-]{1,32}$/;

/** Parses argv (without node and script) and env; throws Error with a readable message when invalid. */
export function parseVenueConfig(argv: string[], env: Record<string, string | undefined>): VenueConfig {
  const raw = new Map<string, string>();
  for (const name of OPTIONS) {
    const v = env[`VENUE_${name.toUpperCase().replaceAll('-', '_')}`];
    if (v !== undefined) raw.set(name, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!OPTIONS.includes(name)) throw new Error(`unknown option --${name}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    raw.set(name, value);
  }
  const get = (name: string, dflt: string) => raw.get(name) ?? dflt;
  const name = id('name', get('name', 'V1'));
  const config: VenueConfig = {
    host: get('host', '127.0.0.1'),
    port: int('port', get('port', '9101'), 0, 65535),
    name,
    compId: id('comp-id', get('comp-id', name)),
    clients: get('clients', 'OMS').split(',').map((c) => id('clients', c.trim())),
    seed: int('seed', get('seed', '1'), 0, 0xffffffff),
    feeBps: num('fee-bps', get('fee-bps', '0'), 0, 1000),
    latencyMs: int('latency-ms', get('latency-ms', '0'), 0, 60_000),
    rejectProbability: num('reject-prob', get('reject-prob', '0'), 0, 1),
    symbols: [],
    tickSizeTicks: ticks('tick', get('tick', '0.01')),
    mmLevels: int('mm-levels', get('mm-levels', '5'), 1, 50),
    mmQty: int('mm-qty', get('mm-qty', '100'), 1, 1_000_000),
    mmStepMs: int('mm-step-ms', get('mm-step-ms', '100'), 1, 3_600_000),
    mmMaxStepTicks: int('mm-max-step', get('mm-max-step', '1'), 0, 1000),
    mmHalfSpread: int('mm-half-spread', get('mm-half-spread', '1'), 1, 1000),
    marketSeed: int('market-seed', get('market-seed', '0'), 0, 0xffffffff),
    mdIntervalMs: int('md-interval-ms', get('md-interval-ms', '50'), 0, 60_000),
    outageEveryMs: int('outage-every-ms', get('outage-every-ms', '0'), 0, 86_400_000),
    outageMs: int('outage-ms', get('outage-ms', '1000'), 1, 86_400_000),
    tlsCertFile: raw.get('tls-cert') ?? null,
    tlsKeyFile: raw.get('tls-key') ?? null,
    tlsPassphraseFile: raw.get('tls-passphrase-file') ?? null,
  };
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) throw new Error('--tls-cert and --tls-key go together');
  if (config.tlsPassphraseFile !== null && config.tlsKeyFile === null) throw new Error('--tls-passphrase-file needs --tls-key');
  if (config.outageEveryMs > 0 && config.outageMs >= config.outageEveryMs) throw new Error('--outage-ms must be shorter than --outage-every-ms');
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(config.host) && config.host !== 'localhost') throw new Error('--host must be an IPv4 address');
  if (new Set(config.clients).size !== config.clients.length) throw new Error('--clients has duplicates');
  config.symbols = get('symbols', DEFAULT_SYMBOLS).split(',').map((entry) => {
    const [symbol, price, extra] = entry.trim().split(':');
    if (extra !== undefined || price === undefined) throw new Error(`--symbols entry "${entry}" is not SYMBOL:PRICE`);
    const p = ticks('symbols', price);
    if (p % config.tickSizeTicks !== 0) throw new Error(`--symbols price of ${symbol} is not a multiple of --tick`);
    return { symbol: id('symbols', symbol), startPriceTicks: p };
  });
  if (new Set(config.symbols.map((s) => s.symbol)).size !== config.symbols.length) throw new Error('--symbols has duplicates');
  return config;
}

function id(option: string, v: string): string {
  if (!ID_RE.test(v)) throw new Error(`--${option} "${v}" must match ${ID_RE}`);
  return v;
}

function int(option: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new Error(`--${option} "${v}" is not a non-negative integer`);
  const n = Number(v);
  if (n < min || n > max) throw new Error(`--${option} ${n} is outside ${min}..${max}`);
  return n;
}

function num(option: string, v: string, min: number, max: number): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`--${option} "${v}" is not a non-negative number`);
  const n = Number(v);
  if (n < min || n > max) throw new Error(`--${option} ${n} is outside ${min}..${max}`);
  return n;
}

function ticks(option: string, v: string): number {
  const t = ticksFromDecimalString(v, MAX_PRICE_TICKS);
  if (t === INVALID || t === 0) throw new Error(`--${option} "${v}" is not a positive price with at most 6 decimals`);
  return t;
}
