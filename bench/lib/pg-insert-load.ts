/**
 * Worker thread: a Postgres write load beside a measurement on the same disk (bench:disk).
 * Multi-row INSERT ... SELECT FROM generate_series, 1,000 rows per committed statement, as fast
 * as the server takes them (the Postgres sink writes the same way, in larger transactions),
 * until the parent posts 'stop'; then posts { rows, seconds } and ends.
 */
import pg from 'pg';
import { parentPort, workerData } from 'node:worker_threads';

const { url } = workerData as { url: string };
const client = new pg.Client(url);
await client.connect();
await client.query('CREATE TABLE IF NOT EXISTS disk_bench_load (id bigint PRIMARY KEY, doc text, qty bigint)');
let stopping = false;
parentPort!.on('message', (m) => {
  if (m === 'stop') stopping = true;
});
parentPort!.postMessage({ type: 'started' });
const t0 = performance.now();
let rows = 0;
while (!stopping) {
  await client.query(`INSERT INTO disk_bench_load SELECT g, md5(g::text), g FROM generate_series(${rows + 1}, ${rows + 1000}) g`);
  rows += 1000;
}
const seconds = (performance.now() - t0) / 1000;
await client.end();
parentPort!.postMessage({ type: 'stopped', rows, seconds });
