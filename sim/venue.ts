/**
 * A venue simulator process: a FIX 4.4 acceptor in front of a price-time order book per symbol
 * with a seeded market maker. Start it as its own process:
 *
 *     node sim/venue.ts --port 9101 --name V1 --seed 7 --clients OMS --latency-ms 2
 *
 * It prints exactly one line to stdout once it listens — "venue V1 listening on 127.0.0.1:9101"
 * — and exits 0 on SIGTERM or SIGINT (logging out its sessions first), or when the parent that
 * started it with an IPC channel exits (scripts/stack.ts does). Invalid options print
 * the usage on stderr and exit 2.
 *
 * Restartability: `--store-dir DIR` (or env VENUE_STORE_DIR) keeps each client session's sequence
 * numbers and sent reports in a file message store under DIR/<clientCompId>, so a venue process
 * that is killed and started again resumes its sessions (the client's ResendRequest is answered
 * from the files). Its order books are not persisted: orders open at the kill are gone, and an
 * OrderStatusRequest for them is answered 39=8 "unknown order". ExecIDs carry the boot time, so
 * they never repeat across restarts. Without --store-dir the stores are in memory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';
import { FileMessageStore, type MessageStore } from '../fix/store.ts';
import { FixSession, SessionRole } from '../fix/session.ts';
import { FixAcceptor } from '../fix/tcp.ts';
import { VenueFeeds } from './market-data.ts';
import { MarketMaker } from './market-maker.ts';
import { VenueApp } from './venue-app.ts';
import { VENUE_USAGE, parseVenueConfig, type VenueConfig } from './venue-config.ts';
import { VenueCore } from './venue-core.ts';

async function main(): Promise<void> {
  let config: VenueConfig;
  // --store-dir is this process's own option (the shared option parser knows the market's options).
  const argv = process.argv.slice(2);
  let storeDir = process.env.VENUE_STORE_DIR ?? null;
  const at = argv.indexOf('--store-dir');
  if (at >= 0) {
    storeDir = argv[at + 1] ?? '';
    argv.splice(at, 2);
  }
  try {
    if (storeDir === '') throw new Error('--store-dir needs a value');
    config = parseVenueConfig(argv, process.env);
  } catch (err) {
    process.stderr.write(`venue: ${(err as Error).message}\n${VENUE_USAGE}\n`);
    process.exit(2);
  }
  const clock = { now: () => Date.now() };
  const app = new VenueApp({ latencyMs: config.latencyMs }, clock);
  const core = new VenueCore(
    {
      name: config.name, symbols: config.symbols, feeBps: config.feeBps, rejectProbability: config.rejectProbability, tickSizeTicks: config.tickSizeTicks, seed: config.seed,
      execIdPrefix: `${config.name}-${Date.now().toString(36)}`,
    },
    app,
  );
  app.attach(core);
  const mm = new MarketMaker(core, {
    seed: config.seed, levels: config.mmLevels, levelQty: config.mmQty, maxStepTicks: config.mmMaxStepTicks, halfSpreadTicks: config.mmHalfSpread,
    marketSeed: config.marketSeed === 0 ? undefined : config.marketSeed,
  });
  mm.quoteAll();

  // Delayed reports: one timer armed for the earliest due report.
  let wake: NodeJS.Timeout | null = null;
  const flush = () => {
    wake = null;
    app.flushDue(clock.now());
    const next = app.nextDueMs();
    if (next >= 0) arm(next);
  };
  const arm = (dueMs: number) => {
    if (wake === null) wake = setTimeout(flush, Math.max(0, dueMs - clock.now()));
  };
  app.onScheduled = arm;

  const stores: MessageStore[] = [];
  const sessions = config.clients.map((client) => {
    const store = storeDir === null ? undefined : new FileMessageStore(join(storeDir, client), { fsync: 'never' });
    if (store !== undefined) stores.push(store);
    return new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: config.compId, targetCompId: client, clock, app, store });
  });
  // Market data (35=W to every logged-on session) and scheduled outages: sim/market-data.ts.
  const feeds = new VenueFeeds(core, sessions, { mdIntervalMs: config.mdIntervalMs, outageEveryMs: config.outageEveryMs, outageMs: config.outageMs });
  const acceptor = new FixAcceptor({ host: config.host, port: config.port, sessions, onStateChange: feeds.onStateChange, authorize: feeds.authorize, tls: tlsOptions(config) });
  const port = await acceptor.listen();
  feeds.start();
  const walk = setInterval(() => mm.step(), config.mmStepMs);
  process.stdout.write(`venue ${config.name} listening on ${config.host}:${port}${config.tlsCertFile === null ? '' : ' (TLS)'}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(walk);
    feeds.stop();
    if (wake !== null) clearTimeout(wake);
    await acceptor.close(500);
    for (const store of stores) store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  onParentGone = () => void stop();
}

// Started by a parent with an IPC channel (scripts/stack.ts): the channel closes when that parent
// exits, however it exits (SIGKILL and crashes included), and the simulator stops with it instead
// of living on, orphaned, with its ports. Started by hand, there is no channel. Listened for from
// the first line run, so an exit during start-up is not missed: before main() has anything to
// close, the process just exits.
let onParentGone: (() => void) | null = null;
if (process.send !== undefined) {
  process.channel?.unref();
  process.on('disconnect', () => {
    if (onParentGone !== null) onParentGone();
    else process.exit(0); // nothing opened yet to close
  });
}

/** --tls-cert/--tls-key (and --tls-passphrase-file): the acceptor's TLS options; undefined = plain TCP. */
function tlsOptions(config: VenueConfig): TlsOptions | undefined {
  if (config.tlsCertFile === null || config.tlsKeyFile === null) return undefined;
  const out: TlsOptions = { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) };
  if (config.tlsPassphraseFile !== null) out.passphrase = readFileSync(config.tlsPassphraseFile, 'utf8').split(/\r?\n/, 1)[0];
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`venue: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
