/**
 * A parent process for scripts/postgres-lifeline.e2e.test.ts: starts a throwaway Postgres as the
 * demo and the tests do, prints "postgres <port> <dataDir>", and stays until it is killed.
 */
import { startPostgres } from './postgres.ts';

const db = await startPostgres();
process.stdout.write(`postgres ${db.port} ${db.dataDir}\n`);
setInterval(() => {}, 1 << 30);
