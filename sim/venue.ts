/**
 * A venue simulator process: a FIX 4.4 acceptor in front of a price-time order book per symbol
 * with a seeded market maker. Start it as its own process:
 *
 *     node sim/venue.ts --port 9101 --name V1 --seed 7 --clients OMS --latency-ms 2
 *
 * It prints exactly one line to stdout once it listens — "venue V1 listening on 127.0.0.1:9101"
 * — and exits 0 on SIGTERM or SIGINT (logging out its sessions first). Invalid options print
 * the usage on stderr and exit 2.
 */
import { FixSession, SessionRole } from '../fix/session.ts';
import { FixAcceptor } from '../fix/tcp.ts';
import { MarketMaker } from './market-maker.ts';
import { VenueApp } from './venue-app.ts';
import { VENUE_USAGE, parseVenueConfig, type VenueConfig } from './venue-config.ts';
import { VenueCore } from './venue-core.ts';

async function main(): Promise<void> {
  let config: VenueConfig;
  try {
    config = parseVenueConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`venue: ${(err as Error).message}\n${VENUE_USAGE}\n`);
    process.exit(2);
  }
  const clock = { now: () => Date.now() };
  const app = new VenueApp({ latencyMs: config.latencyMs }, clock);
  const core = new VenueCore(
    { name: config.name, symbols: config.symbols, feeBps: config.feeBps, rejectProbability: config.rejectProbability, tickSizeTicks: config.tickSizeTicks, seed: config.seed },
    app,
  );
  app.attach(core);
  const mm = new MarketMaker(core, { seed: config.seed, levels: config.mmLevels, levelQty: config.mmQty, maxStepTicks: config.mmMaxStepTicks });
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

  const sessions = config.clients.map(
    (client) => new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: config.compId, targetCompId: client, clock, app }),
  );
  const acceptor = new FixAcceptor({ host: config.host, port: config.port, sessions });
  const port = await acceptor.listen();
  const walk = setInterval(() => mm.step(), config.mmStepMs);
  process.stdout.write(`venue ${config.name} listening on ${config.host}:${port}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(walk);
    if (wake !== null) clearTimeout(wake);
    await acceptor.close(500);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`venue: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
