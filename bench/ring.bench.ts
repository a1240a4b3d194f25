/**
 * SPSC ring benchmark: one-hop throughput and ping-pong round trip across real threads, each
 * beside `postMessage` over a MessageChannel measured in the same run.
 *
 *   One hop (throughput), once per consumer idle strategy (spin, backoff, park):
 *
 *     +----------------------+   ring (SAB)          +------------------------+
 *     | producer worker      | --------------------> | consumer worker        |
 *     | tryClaim x B, commit |  doorbell rung only   | runBlocking(idle)      |
 *     | (B = 64, and B = 1)  |  if consumer parked   | checks seq + checksum  |
 *     +----------------------+                       +------------------------+
 *                ^ go word (SAB)                                | result
 *                +------------ main thread (supervisor) <-------+
 *
 *   Ping-pong (round trip), once per idle strategy (both sides use it):
 *
 *     +-------------------+   ring A: ping(seq)   +-------------------+
 *     | ping worker       | --------------------> | pong worker       |
 *     | HDR histogram of  |                       | echoes seq        |
 *     | send -> reply     | <-------------------- |                   |
 *     +-------------------+   ring B: pong(seq)   +-------------------+
 *
 *   Baseline: the same two topologies with port.postMessage(seq) over a MessageChannel.
 *
 *   Wake cost, park with no spin (the engine's default, idle.spins 0), twice: the pong parked
 *   in Atomics.wait (runBlocking, as risk and sor run), then on its event loop
 *   (engine/runner.ts EventLoopRunner: Atomics.waitAsync, as ingest, fix and persistence run).
 *   Besides the round trip, the pong thread's own CPU per message (/proc/thread-self/schedstat
 *   over the run): with both sides asleep between messages, each message is one wake of it, plus
 *   its echo, its notify of the parked ping and its park again; the pair differs only in how the
 *   pong waits, so their difference is that of the two waits.
 *
 * Throughput is timed by the consumer alone (from record `warmup` to the last), so the JIT has
 * warmed up and no clocks of two threads are compared. Each figure is the median of several runs
 * on fresh workers and rings. Ping-pong is closed loop by nature (one message in flight), so
 * every sample is one whole round trip and nothing queues behind a stall.
 *
 * Run: `npm run bench:ring` (writes bench/results/ring.json), `npm run bench:ring -- --quick`
 * (tiny inputs, writes nothing). The measuring functions are exported for the smoke test.
 */

import { MessageChannel, type MessagePort, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import type { Agent } from '../engine/agent.ts';
import { Doorbell } from '../engine/doorbell.ts';
import { DEFAULT_IDLE_OPTIONS, IDLE_KINDS, createIdleStrategy, type IdleKind } from '../engine/idle.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler, type RingMemory } from '../engine/ring.ts';
import { EventLoopRunner, runBlocking } from '../engine/runner.ts';
import { ThreadCpuClock } from '../workers/metrics/runtime-sampler.ts';
import { createLatencyHistogram, recordMs, summarizeLatencyUs, type LatencySummaryUs } from './lib/latency.ts';
import { formatMachineInfo, machineInfo, watchCpu } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { formatMicros, formatRate, summarize, type RunSummary } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { quickOnly } from './lib/args.ts';

// ---------------------------------------------------------------------------------------------
// Record layout and shared words
// ---------------------------------------------------------------------------------------------

/*
 * Benchmark record body (16 bytes, one 24-byte ring record with its header):
 *
 *   0        4          8                 16
 *   +--------+----------+-----------------+
 *   | seq    | mix(seq) | seq as float64  |
 *   +--------+----------+-----------------+
 */
const SEQ_OFFSET = 0;
const MIX_OFFSET = SEQ_OFFSET + 4;
const SEQ_F64_OFFSET = MIX_OFFSET + 4;
const BODY_LENGTH = SEQ_F64_OFFSET + 8;
const BENCH_TYPE = 7;

/* Control words (one Int32Array over a small SAB): go, then one stop word per side. */
const GO_INDEX = 0;
const STOP_A_INDEX = 32;
const STOP_B_INDEX = 64;
const CONTROL_LENGTH = 4 * 96;

/** A cheap bijective scramble of the sequence number, so a body's words check each other. */
export function mix(seq: number): number {
  return Math.imul(seq ^ 0x5bd1e995, 0x9e3779b1) | 0;
}

/** The checksum a consumer must report after receiving seq 0..total-1: the int32 sum of mix(seq). */
export function expectedChecksum(total: number): number {
  let sum = 0;
  for (let seq = 0; seq < total; seq++) sum = (sum + mix(seq)) | 0;
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

export interface ThroughputResult {
  transport: 'ring' | 'postMessage';
  strategy: IdleKind | 'event-loop';
  batch: number;
  records: number;
  /** Records whose seq, mix and float copy were checked, in order (must equal records). */
  verified: number;
  seqErrors: number;
  checksum: number;
  msgsPerS: number;
  /** Producer claims refused with FULL, and wake-ups it sent (ring only). */
  fullCount: number;
  notifyCount: number;
}

export interface LatencyResult {
  transport: 'ring' | 'postMessage';
  strategy: IdleKind | 'event-loop';
  iterations: number;
  seqErrors: number;
  rttUs: LatencySummaryUs;
  /** Ring only: empty polls before parking (both sides), and how the pong waits. */
  spins?: number;
  pongRunner?: PongRunner;
  /** Ring only: the pong thread's CPU time over the run, per message it echoed (us). */
  pongCpuUsPerMsg?: number;
}

/** How the ring pong waits: in its own blocking loop (Atomics.wait), or on its event loop (Atomics.waitAsync). */
export type PongRunner = 'blocking' | 'event-loop';

// ---------------------------------------------------------------------------------------------
// Worker roles
// ---------------------------------------------------------------------------------------------

interface RingProducerRole {
  role: 'ring-producer';
  memory: RingMemory;
  doorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  total: number;
  batch: number;
}

interface RingConsumerRole {
  role: 'ring-consumer';
  memory: RingMemory;
  doorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  total: number;
  warmup: number;
  strategy: IdleKind;
}

interface RingPingRole {
  role: 'ring-ping' | 'ring-pong';
  outbound: RingMemory;
  outboundDoorbell: SharedArrayBuffer;
  inbound: RingMemory;
  inboundDoorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  total: number;
  warmup: number;
  maxMs: number;
  strategy: IdleKind;
  spins: number;
  pongRunner: PongRunner;
}

interface PostProducerRole {
  role: 'pm-producer';
  port: MessagePort;
  control: SharedArrayBuffer;
  total: number;
}

interface PostConsumerRole {
  role: 'pm-consumer';
  port: MessagePort;
  total: number;
  warmup: number;
}

interface PostPingRole {
  role: 'pm-ping' | 'pm-pong';
  port: MessagePort;
  control: SharedArrayBuffer;
  total: number;
  warmup: number;
  maxMs: number;
}

type Role = RingProducerRole | RingConsumerRole | RingPingRole | PostProducerRole | PostConsumerRole | PostPingRole;

interface BenchMessage {
  type: 'ready' | 'result';
  [key: string]: unknown;
}

function post(message: BenchMessage): void {
  parentPort!.postMessage(message);
}

function waitForGo(control: Int32Array): void {
  while (Atomics.load(control, GO_INDEX) === 0) Atomics.wait(control, GO_INDEX, 0, 1000);
}

/** Producer hot loop: claims up to `batch` records, commits them, and retries at once on FULL. */
function produceRecords(producer: RingProducer, total: number, batch: number): number {
  const view = producer.view;
  let checksum = 0;
  let seq = 0;
  while (seq < total) {
    let claimed = 0;
    while (claimed < batch && seq < total) {
      const offset = producer.tryClaim(BENCH_TYPE, BODY_LENGTH);
      if (offset === FULL) break;
      const m = mix(seq);
      view.setInt32(offset + SEQ_OFFSET, seq, true);
      view.setInt32(offset + MIX_OFFSET, m, true);
      view.setFloat64(offset + SEQ_F64_OFFSET, seq, true);
      checksum = (checksum + m) | 0;
      seq++;
      claimed++;
    }
    producer.commit();
  }
  return checksum;
}

function runRingProducer(role: RingProducerRole): void {
  const doorbell = new Doorbell(role.doorbell);
  const producer = new RingProducer(role.memory, doorbell);
  const control = new Int32Array(role.control);
  post({ type: 'ready' });
  waitForGo(control);
  const checksum = produceRecords(producer, role.total, role.batch);
  post({ type: 'result', checksum, fullCount: producer.fullCount, notifyCount: doorbell.notifyCount });
}

/** Consumer: checks every record in order and times the records after the warm-up. */
class VerifyingConsumer implements Agent, RecordHandler {
  readonly consumer: RingConsumer;
  readonly view: DataView;
  readonly stop: Int32Array;
  readonly total: number;
  readonly warmup: number;
  expected: number;
  seqErrors: number;
  checksum: number;
  startMs: number;
  endMs: number;

  constructor(consumer: RingConsumer, stop: Int32Array, total: number, warmup: number) {
    this.consumer = consumer;
    this.view = consumer.view;
    this.stop = stop;
    this.total = total;
    this.warmup = warmup;
    this.expected = 0;
    this.seqErrors = 0;
    this.checksum = 0;
    this.startMs = 0;
    this.endMs = 0;
  }

  doWork(): number {
    return this.consumer.poll(this, 256);
  }

  onRecord(typeId: number, offset: number, length: number): void {
    const view = this.view;
    const seq = view.getInt32(offset + SEQ_OFFSET, true);
    const m = view.getInt32(offset + MIX_OFFSET, true);
    if (seq !== this.expected || m !== mix(seq) || view.getFloat64(offset + SEQ_F64_OFFSET, true) !== seq) this.seqErrors++;
    if (typeId !== BENCH_TYPE || length !== BODY_LENGTH) this.seqErrors++;
    this.checksum = (this.checksum + m) | 0;
    this.expected = this.expected + 1;
    if (this.expected === this.warmup + 1) this.startMs = performance.now();
    if (this.expected === this.total) {
      this.endMs = performance.now();
      Atomics.store(this.stop, 0, 1);
    }
  }
}

function runRingConsumer(role: RingConsumerRole): void {
  const doorbell = new Doorbell(role.doorbell);
  const control = new Int32Array(role.control);
  const stop = new Int32Array(role.control, STOP_B_INDEX * 4, 1);
  const agent = new VerifyingConsumer(new RingConsumer(role.memory), stop, role.total, role.warmup);
  const idle = createIdleStrategy(role.strategy, doorbell, agent, DEFAULT_IDLE_OPTIONS);
  post({ type: 'ready' });
  waitForGo(control);
  runBlocking(agent, idle, stop);
  post({
    type: 'result',
    verified: agent.expected - agent.seqErrors,
    seqErrors: agent.seqErrors,
    checksum: agent.checksum,
    elapsedMs: agent.endMs - agent.startMs,
  });
}

/** One side of the ring ping-pong: ping sends seq and times the echo; pong echoes. */
class PingPongAgent implements Agent, RecordHandler {
  readonly producer: RingProducer;
  readonly consumer: RingConsumer;
  readonly out: DataView;
  readonly in: DataView;
  readonly stop: Int32Array;
  readonly isPing: boolean;
  readonly total: number;
  readonly warmup: number;
  readonly maxMs: number;
  readonly histogram: Histogram;
  deadlineMs: number;
  sent: number;
  sentAtMs: number;
  received: number;
  seqErrors: number;

  constructor(role: RingPingRole, producer: RingProducer, consumer: RingConsumer, stop: Int32Array) {
    this.producer = producer;
    this.consumer = consumer;
    this.out = producer.view;
    this.in = consumer.view;
    this.stop = stop;
    this.isPing = role.role === 'ring-ping';
    this.total = role.total;
    this.warmup = role.warmup;
    this.maxMs = role.maxMs;
    this.histogram = createLatencyHistogram();
    this.deadlineMs = 0;
    this.sent = -1;
    this.sentAtMs = 0;
    this.received = 0;
    this.seqErrors = 0;
  }

  /** Ping only: sends the first message and starts the clock that bounds the run. */
  start(): void {
    this.deadlineMs = performance.now() + this.maxMs;
    this.send(0);
  }

  doWork(): number {
    return this.consumer.poll(this, 16);
  }

  send(seq: number): void {
    let offset = this.producer.tryClaim(BENCH_TYPE, BODY_LENGTH);
    while (offset === FULL) offset = this.producer.tryClaim(BENCH_TYPE, BODY_LENGTH);
    this.out.setInt32(offset + SEQ_OFFSET, seq, true);
    this.out.setInt32(offset + MIX_OFFSET, mix(seq), true);
    this.out.setFloat64(offset + SEQ_F64_OFFSET, seq, true);
    this.sent = seq;
    this.sentAtMs = performance.now();
    this.producer.commit();
  }

  onRecord(_typeId: number, offset: number, _length: number): void {
    const seq = this.in.getInt32(offset + SEQ_OFFSET, true);
    if (!this.isPing) {
      this.received++;
      this.send(seq);
      return;
    }
    const nowMs = performance.now();
    if (seq !== this.sent || this.in.getInt32(offset + MIX_OFFSET, true) !== mix(seq)) this.seqErrors++;
    this.received++;
    if (seq >= this.warmup) recordMs(this.histogram, nowMs - this.sentAtMs);
    if (seq + 1 >= this.total || nowMs > this.deadlineMs) {
      Atomics.store(this.stop, 0, 1);
      return;
    }
    this.send(seq + 1);
  }
}

function runRingPingPong(role: RingPingRole): void {
  const control = new Int32Array(role.control);
  const isPing = role.role === 'ring-ping';
  const stop = new Int32Array(role.control, (isPing ? STOP_A_INDEX : STOP_B_INDEX) * 4, 1);
  const inboundBell = new Doorbell(role.inboundDoorbell);
  const agent = new PingPongAgent(
    role,
    new RingProducer(role.outbound, new Doorbell(role.outboundDoorbell)),
    new RingConsumer(role.inbound),
    stop,
  );
  const options = { ...DEFAULT_IDLE_OPTIONS, spins: role.spins };
  const cpu = new ThreadCpuClock();
  const result = (cpuS: number): void => post({
    type: 'result',
    iterations: agent.received,
    seqErrors: agent.seqErrors,
    rttUs: isPing ? summarizeLatencyUs(agent.histogram) : null,
    cpuS,
  });
  post({ type: 'ready' });
  waitForGo(control);
  const cpu0 = cpu.seconds();
  if (!isPing && role.pongRunner === 'event-loop') {
    // The engine's event-loop runner; the stop word is looked at every 5 ms (pong only stops).
    const runner = new EventLoopRunner(agent, inboundBell, role.strategy, options);
    runner.start();
    const check = setInterval(() => {
      if (Atomics.load(stop, 0) === 0) return;
      clearInterval(check);
      runner.stop();
      result(cpu.seconds() - cpu0);
    }, 5);
    return;
  }
  const idle = createIdleStrategy(role.strategy, inboundBell, agent, options);
  if (isPing) agent.start();
  runBlocking(agent, idle, stop);
  result(cpu.seconds() - cpu0);
}

function runPostProducer(role: PostProducerRole): void {
  const control = new Int32Array(role.control);
  post({ type: 'ready' });
  waitForGo(control);
  let checksum = 0;
  for (let seq = 0; seq < role.total; seq++) {
    role.port.postMessage(seq);
    checksum = (checksum + mix(seq)) | 0;
  }
  post({ type: 'result', checksum });
  role.port.close();
}

function runPostConsumer(role: PostConsumerRole): void {
  let expected = 0;
  let seqErrors = 0;
  let checksum = 0;
  let startMs = 0;
  role.port.on('message', (seq: number) => {
    if (seq !== expected) seqErrors++;
    checksum = (checksum + mix(seq)) | 0;
    expected++;
    if (expected === role.warmup + 1) startMs = performance.now();
    if (expected === role.total) {
      const elapsedMs = performance.now() - startMs;
      post({ type: 'result', verified: expected - seqErrors, seqErrors, checksum, elapsedMs });
      role.port.close();
    }
  });
  post({ type: 'ready' });
}

function runPostPingPong(role: PostPingRole): void {
  const port = role.port;
  if (role.role === 'pm-pong') {
    let received = 0;
    port.on('message', (seq: number) => {
      received++;
      port.postMessage(seq);
    });
    parentPort!.on('message', () => {
      post({ type: 'result', iterations: received, seqErrors: 0, rttUs: null });
      port.close();
    });
    post({ type: 'ready' });
    return;
  }
  const histogram = createLatencyHistogram();
  let sent = 0;
  let sentAtMs = 0;
  let received = 0;
  let seqErrors = 0;
  let deadlineMs = 0;
  const send = (seq: number): void => {
    sent = seq;
    sentAtMs = performance.now();
    port.postMessage(seq);
  };
  port.on('message', (seq: number) => {
    const nowMs = performance.now();
    if (seq !== sent) seqErrors++;
    received++;
    if (seq >= role.warmup) recordMs(histogram, nowMs - sentAtMs);
    if (seq + 1 >= role.total || nowMs > deadlineMs) {
      post({ type: 'result', iterations: received, seqErrors, rttUs: summarizeLatencyUs(histogram) });
      port.close();
      return;
    }
    send(seq + 1);
  });
  post({ type: 'ready' });
  waitForGo(new Int32Array(role.control));
  deadlineMs = performance.now() + role.maxMs;
  send(0);
}

function runRole(role: Role): void {
  switch (role.role) {
    case 'ring-producer': return runRingProducer(role);
    case 'ring-consumer': return runRingConsumer(role);
    case 'ring-ping':
    case 'ring-pong': return runRingPingPong(role);
    case 'pm-producer': return runPostProducer(role);
    case 'pm-consumer': return runPostConsumer(role);
    case 'pm-ping':
    case 'pm-pong': return runPostPingPong(role);
  }
}

// ---------------------------------------------------------------------------------------------
// Supervisor side: start workers, say go, collect results
// ---------------------------------------------------------------------------------------------

interface WorkerSpec {
  data: Role;
  transfer?: MessagePort[];
}

/**
 * Starts one worker per spec (this same file, in its worker role), waits until all are ready,
 * sets the go word, and resolves with each worker's result. Rejects and terminates every worker
 * if one fails or timeoutMs passes.
 */
async function runWorkers(specs: readonly WorkerSpec[], control: Int32Array, timeoutMs: number): Promise<BenchMessage[]> {
  const workers = specs.map((spec) => new Worker(new URL(import.meta.url), { workerData: spec.data, transferList: spec.transfer ?? [] }));
  const results: (BenchMessage | null)[] = specs.map(() => null);
  let readyCount = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<BenchMessage[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`bench workers did not finish in ${timeoutMs} ms`)), timeoutMs);
      let doneCount = 0;
      workers.forEach((worker, i) => {
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (results[i] === null) reject(new Error(`bench worker ${specs[i].data.role} exited (${code}) without a result`));
        });
        worker.on('message', (message: BenchMessage) => {
          if (message.type === 'ready' && ++readyCount === workers.length) {
            Atomics.store(control, GO_INDEX, 1);
            Atomics.notify(control, GO_INDEX);
          } else if (message.type === 'result') {
            results[i] = message;
            if (++doneCount === workers.length) resolve(results as BenchMessage[]);
          }
        });
      });
    });
  } finally {
    clearTimeout(timer);
    Atomics.store(control, STOP_A_INDEX, 1);
    Atomics.store(control, STOP_B_INDEX, 1);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH));
}

export interface RingThroughputOptions {
  strategy: IdleKind;
  records: number;
  warmup: number;
  /** Claims per commit. */
  batch: number;
  capacity: number;
  timeoutMs: number;
}

/** One run: a fresh ring, producer and consumer workers; the consumer checks every record. */
export async function measureRingThroughput(options: RingThroughputOptions): Promise<ThroughputResult> {
  const { strategy, records, warmup, batch, capacity, timeoutMs } = options;
  if (!(warmup >= 0 && warmup + 2 <= records)) throw new Error('Condition failed: warmup + 2 <= records');
  const memory = createRingMemory(capacity);
  const doorbell = Doorbell.create().sab;
  const control = createControl();
  const [producer, consumer] = await runWorkers(
    [
      { data: { role: 'ring-producer', memory, doorbell, control: control.buffer as SharedArrayBuffer, total: records, batch } },
      { data: { role: 'ring-consumer', memory, doorbell, control: control.buffer as SharedArrayBuffer, total: records, warmup, strategy } },
    ],
    control,
    timeoutMs,
  );
  return {
    transport: 'ring',
    strategy,
    batch,
    records,
    verified: consumer.verified as number,
    seqErrors: consumer.seqErrors as number,
    checksum: consumer.checksum as number,
    msgsPerS: ((records - 1 - warmup) * 1000) / (consumer.elapsedMs as number),
    fullCount: producer.fullCount as number,
    notifyCount: producer.notifyCount as number,
  };
}

export interface PostMessageThroughputOptions {
  records: number;
  warmup: number;
  timeoutMs: number;
}

/** The baseline: a worker posting seq numbers to another worker over a MessageChannel. */
export async function measurePostMessageThroughput(options: PostMessageThroughputOptions): Promise<ThroughputResult> {
  const { records, warmup, timeoutMs } = options;
  if (!(warmup >= 0 && warmup + 2 <= records)) throw new Error('Condition failed: warmup + 2 <= records');
  const channel = new MessageChannel();
  const control = createControl();
  const [, consumer] = await runWorkers(
    [
      { data: { role: 'pm-producer', port: channel.port1, control: control.buffer as SharedArrayBuffer, total: records }, transfer: [channel.port1] },
      { data: { role: 'pm-consumer', port: channel.port2, total: records, warmup }, transfer: [channel.port2] },
    ],
    control,
    timeoutMs,
  );
  return {
    transport: 'postMessage',
    strategy: 'event-loop',
    batch: 1,
    records,
    verified: consumer.verified as number,
    seqErrors: consumer.seqErrors as number,
    checksum: consumer.checksum as number,
    msgsPerS: ((records - 1 - warmup) * 1000) / (consumer.elapsedMs as number),
    fullCount: 0,
    notifyCount: 0,
  };
}

export interface PingPongOptions {
  strategy: IdleKind;
  iterations: number;
  warmup: number;
  /** Stop early after this long (the sample count is reported). */
  maxMs: number;
  capacity: number;
  timeoutMs: number;
  /** Empty polls before parking, both sides (default: DEFAULT_IDLE_OPTIONS.spins). */
  spins?: number;
  /** How the pong waits (default: blocking, as the ping always does). */
  pongRunner?: PongRunner;
}

/** Ring ping-pong between two workers; both use `strategy` to wait for the next message. */
export async function measureRingPingPong(options: PingPongOptions): Promise<LatencyResult> {
  const { strategy, iterations, warmup, maxMs, capacity, timeoutMs } = options;
  const spins = options.spins ?? DEFAULT_IDLE_OPTIONS.spins;
  const pongRunner = options.pongRunner ?? 'blocking';
  const ringA = createRingMemory(capacity);
  const ringB = createRingMemory(capacity);
  const bellA = Doorbell.create();
  const bellB = Doorbell.create();
  const control = createControl();
  const controlSab = control.buffer as SharedArrayBuffer;
  const common = { control: controlSab, total: iterations, warmup, maxMs, strategy, spins, pongRunner };
  const workers = runWorkers(
    [
      { data: { role: 'ring-ping', outbound: ringA, outboundDoorbell: bellA.sab, inbound: ringB, inboundDoorbell: bellB.sab, ...common } },
      { data: { role: 'ring-pong', outbound: ringB, outboundDoorbell: bellB.sab, inbound: ringA, inboundDoorbell: bellA.sab, ...common } },
    ],
    control,
    timeoutMs,
  );
  // Pong runs until ping is done: when ping stops, stop pong and ring its bell in case it parked.
  const stopPong = setInterval(() => {
    if (Atomics.load(control, STOP_A_INDEX) !== 0) {
      Atomics.store(control, STOP_B_INDEX, 1);
      bellA.ring();
    }
  }, 5);
  try {
    const [ping, pong] = await workers;
    const echoed = pong.iterations as number;
    return {
      transport: 'ring',
      strategy,
      iterations: ping.iterations as number,
      seqErrors: ping.seqErrors as number,
      rttUs: ping.rttUs as LatencySummaryUs,
      spins,
      pongRunner,
      pongCpuUsPerMsg: echoed > 0 ? ((pong.cpuS as number) * 1e6) / echoed : NaN,
    };
  } finally {
    clearInterval(stopPong);
  }
}

/** The baseline ping-pong: two workers echoing a seq number over a MessageChannel. */
export async function measurePostMessagePingPong(options: Omit<PingPongOptions, 'strategy' | 'capacity'>): Promise<LatencyResult> {
  const { iterations, warmup, maxMs, timeoutMs } = options;
  const channel = new MessageChannel();
  const control = createControl();
  const controlSab = control.buffer as SharedArrayBuffer;
  const common = { control: controlSab, total: iterations, warmup, maxMs };
  const specs: WorkerSpec[] = [
    { data: { role: 'pm-ping', port: channel.port1, ...common }, transfer: [channel.port1] },
    { data: { role: 'pm-pong', port: channel.port2, ...common }, transfer: [channel.port2] },
  ];
  // pm-pong reports when told to (by a message from this thread) after ping is done.
  const workers = specs.map((spec) => new Worker(new URL(import.meta.url), { workerData: spec.data, transferList: spec.transfer ?? [] }));
  try {
    const ping = await new Promise<BenchMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`postMessage ping-pong did not finish in ${timeoutMs} ms`)), timeoutMs);
      let ready = 0;
      for (const worker of workers) {
        worker.on('error', reject);
        worker.on('message', (message: BenchMessage) => {
          if (message.type === 'ready' && ++ready === workers.length) {
            Atomics.store(control, GO_INDEX, 1);
            Atomics.notify(control, GO_INDEX);
          } else if (message.type === 'result' && worker === workers[0]) {
            clearTimeout(timer);
            resolve(message);
          }
        });
      }
    });
    return {
      transport: 'postMessage',
      strategy: 'event-loop',
      iterations: ping.iterations as number,
      seqErrors: ping.seqErrors as number,
      rttUs: ping.rttUs as LatencySummaryUs,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------
// The whole benchmark
// ---------------------------------------------------------------------------------------------

export interface RingBenchConfig {
  runs: number;
  capacity: number;
  records: number;
  /** Records for the commit-per-record figure (slower, so fewer). */
  recordsPerRecordCommit: number;
  warmup: number;
  batch: number;
  pingIterations: number;
  pingWarmup: number;
  pingMaxMs: number;
  postRecords: number;
  timeoutMs: number;
}

export const FULL_CONFIG: RingBenchConfig = {
  runs: 5,
  capacity: 1 << 16,
  records: 8_000_000,
  recordsPerRecordCommit: 3_000_000,
  warmup: 500_000,
  batch: 64,
  pingIterations: 100_000,
  pingWarmup: 5_000,
  pingMaxMs: 2_500,
  postRecords: 500_000,
  timeoutMs: 60_000,
};

export const QUICK_CONFIG: RingBenchConfig = {
  runs: 1,
  capacity: 1 << 12,
  records: 20_000,
  recordsPerRecordCommit: 10_000,
  warmup: 1_000,
  batch: 64,
  pingIterations: 2_000,
  pingWarmup: 100,
  pingMaxMs: 2_000,
  postRecords: 5_000,
  timeoutMs: 20_000,
};

export interface ThroughputSeries {
  transport: 'ring' | 'postMessage';
  strategy: IdleKind | 'event-loop';
  batch: number;
  records: number;
  msgsPerS: RunSummary;
  /** Every run's records were all verified in order with the expected checksum. */
  verified: boolean;
  checksum: number;
  fullCount: number;
  notifyCount: number;
}

export interface RingBenchReport {
  config: RingBenchConfig;
  throughput: ThroughputSeries[];
  latency: LatencyResult[];
  /** The wake-cost pair: park with no spin, the pong blocking, then on its event loop. */
  wake: LatencyResult[];
  figures: Record<string, Figure>;
}

function checkThroughputRun(run: ThroughputResult, checksum: number): void {
  if (run.seqErrors !== 0 || run.verified !== run.records || run.checksum !== checksum) {
    throw new Error(`Invariant: ${run.transport}/${run.strategy}/batch ${run.batch}: ${run.verified} of ${run.records} verified, ` +
      `${run.seqErrors} errors, checksum ${run.checksum} != ${checksum}`);
  }
}

async function throughputSeries(config: RingBenchConfig, measure: () => Promise<ThroughputResult>, records: number): Promise<ThroughputSeries> {
  const checksum = expectedChecksum(records);
  const runs: ThroughputResult[] = [];
  for (let i = 0; i < config.runs; i++) {
    const run = await measure();
    checkThroughputRun(run, checksum);
    runs.push(run);
  }
  const first = runs[0];
  return {
    transport: first.transport,
    strategy: first.strategy,
    batch: first.batch,
    records,
    msgsPerS: summarize(runs.map((r) => r.msgsPerS)),
    verified: true,
    checksum,
    fullCount: Math.max(...runs.map((r) => r.fullCount)),
    notifyCount: Math.max(...runs.map((r) => r.notifyCount)),
  };
}

/** Runs every measurement of the benchmark; writes nothing. `log` receives progress lines. */
export async function runRingBench(config: RingBenchConfig, log: (line: string) => void = () => {}): Promise<RingBenchReport> {
  const throughput: ThroughputSeries[] = [];
  const base = { capacity: config.capacity, warmup: config.warmup, timeoutMs: config.timeoutMs };
  for (const batch of [config.batch, 1]) {
    const records = batch === 1 ? config.recordsPerRecordCommit : config.records;
    for (const strategy of IDLE_KINDS) {
      const series = await throughputSeries(config, () => measureRingThroughput({ ...base, strategy, batch, records }), records);
      log(`ring ${strategy.padEnd(7)} batch ${String(batch).padStart(2)}: median ${formatRate(series.msgsPerS.median)} msgs/s`);
      throughput.push(series);
    }
  }
  const postWarmup = Math.min(config.warmup, config.postRecords >>> 2);
  const postSeries = await throughputSeries(
    config,
    () => measurePostMessageThroughput({ records: config.postRecords, warmup: postWarmup, timeoutMs: config.timeoutMs }),
    config.postRecords,
  );
  log(`postMessage one hop: median ${formatRate(postSeries.msgsPerS.median)} msgs/s`);
  throughput.push(postSeries);

  const latency: LatencyResult[] = [];
  const ping = { iterations: config.pingIterations, warmup: config.pingWarmup, maxMs: config.pingMaxMs, capacity: config.capacity, timeoutMs: config.timeoutMs };
  for (const strategy of IDLE_KINDS) {
    const result = await measureRingPingPong({ ...ping, strategy });
    if (result.seqErrors !== 0) throw new Error(`Invariant: ring ping-pong ${strategy} saw ${result.seqErrors} sequence errors`);
    log(`ring ping-pong ${strategy.padEnd(7)}: p50 ${formatMicros(result.rttUs.p50)} us`);
    latency.push(result);
  }
  // Wake cost: no spin, the pong blocking and then on its event loop.
  const wake: LatencyResult[] = [];
  for (const pongRunner of ['blocking', 'event-loop'] as const) {
    const result = await measureRingPingPong({ ...ping, strategy: 'park', spins: 0, pongRunner });
    if (result.seqErrors !== 0) throw new Error(`Invariant: ring ping-pong park/${pongRunner} saw ${result.seqErrors} sequence errors`);
    log(`ring ping-pong park, spins 0, pong ${pongRunner.padEnd(10)}: p50 ${formatMicros(result.rttUs.p50)} us, pong CPU ${formatMicros(result.pongCpuUsPerMsg!)} us per message`);
    wake.push(result);
  }
  const postPing = await measurePostMessagePingPong(ping);
  if (postPing.seqErrors !== 0) throw new Error(`Invariant: postMessage ping-pong saw ${postPing.seqErrors} sequence errors`);
  log(`postMessage ping-pong: p50 ${formatMicros(postPing.rttUs.p50)} us`);
  latency.push(postPing);

  return { config, throughput, latency, wake, figures: figuresOf(throughput, latency, wake) };
}

function figuresOf(throughput: readonly ThroughputSeries[], latency: readonly LatencyResult[], wake: readonly LatencyResult[]): Record<string, Figure> {
  const batched = throughput.filter((s) => s.transport === 'ring' && s.batch !== 1);
  const best = batched.reduce((a, b) => (b.msgsPerS.median > a.msgsPerS.median ? b : a));
  const postMessage = throughput.find((s) => s.transport === 'postMessage')!;
  const baseline = postMessage.msgsPerS.median;
  const figures: Record<string, Figure> = {
    one_hop_msgs_per_s: figure(Math.round(best.msgsPerS.median), 'msgs/s', '>= 10000000', Math.round(baseline), 'worker postMessage(seq) over a MessageChannel, one hop, same run', {
      strategy: best.strategy,
      batch: best.batch,
      min: Math.round(best.msgsPerS.min),
      max: Math.round(best.msgsPerS.max),
      runs: best.msgsPerS.runs,
    }),
    ratio_vs_postmessage: figure(Math.round((best.msgsPerS.median / baseline) * 100) / 100, 'x', '>= 5', null, undefined, {
      strategy: best.strategy,
      ringMsgsPerS: Math.round(best.msgsPerS.median),
      postMessageMsgsPerS: Math.round(baseline),
    }),
  };
  const postRtt = latency.find((l) => l.transport === 'postMessage')!.rttUs;
  for (const l of latency) {
    // No samples after the warm-up (the run hit its time bound first): no figure, rather than 0.
    if (l.transport !== 'ring' || l.rttUs.count === 0) continue;
    figures[`roundtrip_p99_us_${l.strategy}`] = figure(l.rttUs.p99, 'us', '(report)', postRtt.p99, 'worker postMessage ping-pong p99, same run', { p50: l.rttUs.p50 });
  }
  const blocking = wake.find((l) => l.pongRunner === 'blocking');
  const eventLoop = wake.find((l) => l.pongRunner === 'event-loop');
  if (blocking !== undefined && eventLoop !== undefined && Number.isFinite(blocking.pongCpuUsPerMsg) && Number.isFinite(eventLoop.pongCpuUsPerMsg)) {
    figures.wake_cpu_us_event_loop = figure(round(eventLoop.pongCpuUsPerMsg!, 2), 'us', '(report)', round(blocking.pongCpuUsPerMsg!, 2),
      'the same pong parked in Atomics.wait (runBlocking), idle.spins 0, same run: its CPU per message (wake, echo, notify, park)', {
        roundTripP50Us: round(eventLoop.rttUs.p50, 2),
        roundTripP99Us: eventLoop.rttUs.p99,
        blockingRoundTripP50Us: round(blocking.rttUs.p50, 2),
        blockingRoundTripP99Us: blocking.rttUs.p99,
        ratio: round(eventLoop.pongCpuUsPerMsg! / blocking.pongCpuUsPerMsg!, 2),
      });
  }
  return figures;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function printReport(report: RingBenchReport): void {
  printTable(
    'One hop throughput (median of runs; consumer-timed after warm-up)',
    ['transport', 'consumer idle', 'commit per', 'median msgs/s', 'min', 'max', 'runs', 'FULL refusals', 'notifies', 'checksum'],
    report.throughput.map((s) => [
      s.transport,
      s.strategy,
      s.transport === 'ring' ? `${s.batch} rec` : 'message',
      formatRate(s.msgsPerS.median),
      formatRate(s.msgsPerS.min),
      formatRate(s.msgsPerS.max),
      s.msgsPerS.runs,
      s.fullCount,
      s.notifyCount,
      (s.checksum >>> 0).toString(16).padStart(8, '0'),
    ]),
  );
  const us = (l: LatencyResult, value: number): string => (l.rttUs.count === 0 ? 'n/a' : formatMicros(value));
  printTable(
    'Ping-pong round trip (us, HDR histogram, after warm-up)',
    ['transport', 'idle', 'round trips', 'samples', 'p50', 'p90', 'p99', 'p99.9', 'max', 'pong CPU/msg'],
    [...report.latency, ...report.wake].map((l) => [
      l.transport,
      report.wake.includes(l) ? `${l.strategy}, spins 0, pong ${l.pongRunner}` : l.strategy,
      l.iterations,
      l.rttUs.count,
      us(l, l.rttUs.p50),
      us(l, l.rttUs.p90),
      us(l, l.rttUs.p99),
      us(l, l.rttUs.p999),
      us(l, l.rttUs.max),
      l.pongCpuUsPerMsg === undefined ? '' : formatMicros(l.pongCpuUsPerMsg),
    ]),
  );
  for (const l of [...report.latency, ...report.wake]) {
    if (l.rttUs.count === 0) {
      console.log(`warning: ${l.transport}/${l.strategy} ping-pong made only ${l.iterations} round trips in its time bound ` +
        '(no samples after warm-up): the machine was busy with other work');
    }
  }
  console.log('');
  for (const [id, f] of Object.entries(report.figures)) {
    if (f.goal === '(report)') continue;
    console.log(`${id}: ${f.value} ${f.unit} (goal ${f.goal}: ${f.met ? 'met' : 'MISSED'}; baseline ${f.baseline})`);
  }
}

function extraOf(report: RingBenchReport): Record<string, unknown> {
  const throughput: Record<string, unknown> = {};
  for (const s of report.throughput) {
    const key = s.transport === 'ring' ? `ring_${s.strategy}_batch${s.batch}` : 'postmessage';
    throughput[key] = {
      median: Math.round(s.msgsPerS.median),
      min: Math.round(s.msgsPerS.min),
      max: Math.round(s.msgsPerS.max),
      runs: s.msgsPerS.runs,
      records: s.records,
      fullRefusalsMax: s.fullCount,
      notifiesMax: s.notifyCount,
    };
  }
  const latency: Record<string, unknown> = {};
  for (const l of [...report.latency, ...report.wake]) {
    const key = l.transport === 'postMessage' ? 'postmessage' : report.wake.includes(l) ? `ring_park_spins0_pong_${l.pongRunner}` : `ring_${l.strategy}`;
    const cpu = l.pongCpuUsPerMsg === undefined ? {} : { pongCpuUsPerMsg: round(l.pongCpuUsPerMsg, 2) };
    latency[key] = l.rttUs.count === 0 ? { roundTrips: l.iterations, samples: 0, ...cpu } : { ...l.rttUs, p50: round(l.rttUs.p50, 3), roundTrips: l.iterations, ...cpu };
  }
  return { throughputMsgsPerS: throughput, roundtripUs: latency };
}

async function main(): Promise<void> {
  const quick = quickOnly();
  const config = quick ? QUICK_CONFIG : FULL_CONFIG;
  const machine = machineInfo();
  console.log(`machine: ${formatMachineInfo(machine)}`);
  console.log(`ring bench${quick ? ' (--quick: tiny inputs, results not written)' : ''}: ${JSON.stringify(config)}`);
  const cpu = watchCpu();
  const report = await runRingBench(config, (line) => console.log(`  ${line}`));
  printReport(report);
  // Other processes on these shared 2-core machines move the figures (spinning most of all):
  // record how much CPU they took while the benchmark ran.
  const conditions = cpu();
  console.log(`\ntook ${conditions.wallS} s; CPU used by this benchmark ${conditions.processS} s, by other processes ${conditions.otherS} s`);
  if (quick) return;
  const params = { ...config, bodyBytes: BODY_LENGTH, idleOptions: DEFAULT_IDLE_OPTIONS };
  const path = writeResults('ring', params, report.figures, { ...extraOf(report), conditions });
  console.log(`wrote ${path}`);
}

if (!isMainThread && (workerData as Role | null)?.role !== undefined) {
  runRole(workerData as Role);
} else if (isMainModule(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
