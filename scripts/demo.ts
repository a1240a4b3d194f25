/**
 * The main job: the engine with simulated venues, on embedded defaults.
 *
 *   npm start                       (or: node scripts/demo.ts [--config file.json])
 *
 * Starts one venue simulator process per configured venue (FIX 4.4 acceptors with seeded order
 * books), then the engine, and prints where to connect, an API key, and an order to try.
 * Ctrl-C stops everything cleanly.
 */
import { ConfigError, decimalToTicks, loadConfig } from '../workers/config.ts';
import { PRICE_SCALE, ticksToDecimalString } from '../engine/fixed-point.ts';
import { jsonLogger } from '../workers/supervisor.ts';
import { startStack } from './stack.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { chrtAvailable } from './nice.ts';
import { configPath } from './engine.ts';

let config;
try {
  config = loadConfig(process.env, configPath(process.argv));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

// Postgres sink: DATABASE_URL (or sinks.postgres.url) when given; otherwise a throwaway Postgres
// 15 for the demo. If none can be started, the demo says so and runs on the journal alone.
// Kafka only when KAFKA_BROKERS (or sinks.kafka.brokers) is set.
let demoDb: PostgresServer | null = null;
let dbNote = config.sinks.postgres.url === null ? '' : `${config.sinks.postgres.url.replace(/:[^:@/]*@/, ':***@')} (configured)`;
if (config.sinks.postgres.url === null) {
  try {
    // Beside the engine on one host: at a lower priority, as docs/TUNING.md advises (under
    // SCHED_IDLE where the sinks thread is, sinks.schedIdle, when chrt is there to set it).
    const idle = config.sinks.schedIdle && process.platform === 'linux' && chrtAvailable();
    demoDb = await startPostgres({ nice: 10, idle });
    config = { ...config, sinks: { ...config.sinks, postgres: { ...config.sinks.postgres, url: demoDb.url } } };
    dbNote = `${demoDb.url} (throwaway Postgres 15 at niceness +10${idle ? ', SCHED_IDLE' : ''}, removed at exit)`;
  } catch (err) {
    dbNote = `none: Postgres could not be started (${(err as Error).message.split('\n')[0]}); running on the journal alone`;
    jsonLogger('warn', 'demo: no Postgres sink', { reason: (err as Error).message });
  }
}
const kafkaNote = config.sinks.kafka.brokers.length > 0 ? config.sinks.kafka.brokers.join(',') : 'off (set KAFKA_BROKERS to publish the seed topics)';

const stack = await startStack(config, { seed: 7, venueStores: true, log: jsonLogger });
const http = `${config.http.host}:${stack.info.httpPort}`;
const key = config.accounts[0].apiKey;
const admin = config.accounts.find((a) => a.role === 'admin');
// 1% through the reference price, so the example crosses the simulated book and fills.
const ref = decimalToTicks(config.symbols[0].referencePrice);
const examplePrice = ticksToDecimalString(Math.round((ref * 1.01) / (PRICE_SCALE / 100)) * (PRICE_SCALE / 100));
// A client order id of this start's own: on a journal from an earlier start, demo-1 would answer
// that run's order again (a repeated ClOrdID returns the original ack, docs/API.md).
const exampleClOrdId = `demo-${Date.now().toString(36)}`;
process.stdout.write(`
OMS + SOR running.
  venues:     ${stack.venues.map((v) => `${v.name} on 127.0.0.1:${v.port} (FIX 4.4)`).join(', ')}
  web page:   http://${http}/   (log in with the token ${key})
  WebSocket:  ws://${http}/v1/ws?token=${key}
  REST:       http://${http}/v1/orders   (Authorization: Bearer ${key})
  health:     http://${http}/health   (readiness: /ready)
  metrics:    ${stack.info.metricsPort > 0 ? `http://${config.metrics.host}:${stack.info.metricsPort}/metrics (Prometheus)` : 'off (metrics.port is 0)'}
  FIX:        acceptor on ${config.fixAcceptor.host}:${stack.info.fixPort} (FIX 4.4 clients: fixAcceptor.sessions in the config)
  admin:      http://${http}/v1/admin/sor/config   (Authorization: Bearer ${admin?.apiKey ?? '(no admin account configured)'})
  API:        docs/API.md (JSON or FlatBuffers frames, subscriptions, positions, limits, reason codes)
  journal:    ${stack.info.journal}
  postgres:   ${dbNote}
  kafka:      ${kafkaNote}

Try an order (it fills against the simulated venues):
  curl -s -X POST http://${http}/v1/orders -H 'Authorization: Bearer ${key}' \\
       -H 'content-type: application/json' \\
       -d '{"clOrdId":"${exampleClOrdId}","symbol":"${config.symbols[0].name}","side":"BUY","qty":100,"price":"${examplePrice}","ordType":"LIMIT","tif":"DAY"}'
  curl -s http://${http}/v1/orders/<orderId it answered> -H 'Authorization: Bearer ${key}'

Press Ctrl-C to stop.
`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  jsonLogger('info', `received ${signal}, stopping`);
  await stack.stop();
  await demoDb?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

// The example fills only once the venue sessions are logged on: say so if they are not soon
// (why a Logon may be refused: scripts/stack.ts, venueStores).
const VENUES_UP_WAIT_MS = 10_000;
const venuesDown = (): string[] =>
  (stack.engine.sessionStatus()?.venues ?? []).filter((v) => v.state !== 'ACTIVE').map((v) => `${String(v.venue)} (${String(v.state)})`);
let down = venuesDown();
for (const until = Date.now() + VENUES_UP_WAIT_MS; down.length > 0 && !stopping && Date.now() < until; down = venuesDown()) {
  await new Promise((r) => setTimeout(r, 250));
}
if (down.length > 0 && !stopping) {
  process.stdout.write(`
warning: venue sessions not logged on after ${VENUES_UP_WAIT_MS / 1000} s: ${down.join(', ')}.
  The SOR routes to none of them until they are (NO_VENUE_AVAILABLE when no venue is up). The
  log's 'logon_refused' lines say why; 'MsgSeqNum too low' means ${config.journal.dir} holds
  sessions out of step with the simulators' (${config.journal.dir}/venues): stop, move that
  directory away, start again.
`);
}
