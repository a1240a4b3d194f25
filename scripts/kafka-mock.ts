/**
 * A Kafka-protocol cluster for tests and benchmarks: scripts/kafka-mock.c (librdkafka's mock
 * cluster), compiled on first use with gcc against Debian's librdkafka-dev (scripts/native-build.ts:
 * cached by the source's hash), started as a child process.
 *
 *   node scripts/kafka-mock.ts [brokers]     prints KAFKA_BROKERS=... and runs until Ctrl-C.
 *
 * When the headers or gcc are missing and we are root (CI machines start without them),
 * `apt-get update && apt-get install -y librdkafka-dev gcc` installs them.
 *
 * DESIGN.md: admin createTopics and the idempotent producer fail against this mock (no usable
 * controller), so the sink depends on neither; topics are created here, at start, through the
 * mock's own API, or auto-created on first produce.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildNative } from './native-build.ts';
import { withNice } from './nice.ts';

const SOURCE = fileURLToPath(new URL('./kafka-mock.c', import.meta.url));
const HEADER = '/usr/include/librdkafka/rdkafka_mock.h';

export interface KafkaMock {
  /** host:port list, as KAFKA_BROKERS takes it. */
  brokers: string[];
  /** The cluster's process. */
  pid: number;
  /** Takes a broker (1-based) or all of them down: connections closed, new ones refused. */
  down(broker: number | 'all'): Promise<void>;
  up(broker: number | 'all'): Promise<void>;
  rtt(broker: number, ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** Compiles the mock if needed; returns the binary's path. */
export function buildKafkaMock(log: (line: string) => void = () => {}): string {
  return buildNative({ name: 'kafka-mock', source: SOURCE, libs: ['-lrdkafka'], headers: [HEADER], packages: ['librdkafka-dev', 'gcc', 'libc6-dev'] }, log);
}

const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of LIVE) if (c.exitCode === null) c.kill('SIGKILL');
});

/**
 * Starts a mock cluster of `brokers` brokers; `topics` are created with `partitions` each; `nice`
 * is the cluster process's scheduling niceness, `idle` runs it under SCHED_IDLE (scripts/nice.ts).
 */
export async function startKafkaMock(brokers: number = 1, topics: string[] = [], partitions: number = 4, nice: number = 0, idle = false): Promise<KafkaMock> {
  const binary = buildKafkaMock();
  const [file, argv] = withNice(nice, binary, [String(brokers), String(partitions), ...topics], idle);
  const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
  let errText = '';
  child.stderr!.on('data', (c: Buffer) => { errText = (errText + c.toString('utf8')).slice(-2000); });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  let bootstraps: string | null = null;
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafka-mock did not start within 10 s: ${errText}`)), 10_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`kafka-mock could not be spawned (${file}): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kafka-mock exited with code ${code}: ${errText}`));
    });
    lines.on('line', (line) => {
      if (bootstraps === null && line.startsWith('BOOTSTRAPS ')) {
        bootstraps = line.slice('BOOTSTRAPS '.length).trim();
        clearTimeout(timer);
        resolve(bootstraps);
        return;
      }
      const w = waiting.shift();
      if (w !== undefined) w(line);
    });
  });
  const list = (await started).split(',');
  const command = (cmd: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null) {
        reject(new Error('kafka-mock is not running'));
        return;
      }
      waiting.push((line) => (line.startsWith('OK ') ? resolve() : reject(new Error(`kafka-mock: ${line}`))));
      child.stdin!.write(`${cmd}\n`);
    });
  return {
    brokers: list,
    pid: child.pid!,
    down: (b) => command(`down ${b}`),
    up: (b) => command(`up ${b}`),
    rtt: (b, ms) => command(`rtt ${b} ${ms}`),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin!.end('quit\n');
      }),
  };
}

// CLI: start one and keep it until Ctrl-C.
if (import.meta.url === `file://${process.argv[1]}`) {
  const mock = await startKafkaMock(Number(process.argv[2] ?? 1));
  process.stdout.write(`KAFKA_BROKERS=${mock.brokers.join(',')}\n(librdkafka mock cluster; Ctrl-C stops it)\n`);
  const shutdown = async () => {
    await mock.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  setInterval(() => {}, 1 << 30);
}
