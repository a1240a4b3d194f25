/**
 * The native load generator (bench/native/ws-load.c through bench/lib/native-load.ts): its
 * arguments are checked, a server it cannot reach fails the run with the reason, and orders a
 * server never answers are counted as timed out and recorded at the drain deadline, as the Node
 * generator records them (bench/lib/open-loop-worker.ts), so a server that stops answering
 * cannot look fast. The stall it must show is in bench/open-loop.honesty.test.ts.
 */

import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeLoadGenerator, buildNativeLoad, histogramsOfLatencies, nativeLoadArgs, scheduleCounts } from './native-load.ts';
import { freePort } from '../../scripts/postgres.ts';
import { startStubServer, type StubServer } from './stub-order-server.ts';

let stub: StubServer;
let native: NativeLoadGenerator;

beforeAll(async () => {
  stub = await startStubServer();
  native = new NativeLoadGenerator();
});

afterAll(() => {
  stub?.close();
});


describe('native load generator', () => {
  it('refuses bad arguments with exit code 2 and the reason', () => {
    const binary = buildNativeLoad();
    const cases: [string[], RegExp][] = [
      [[], /--port and --tokens are required/],
      [['--port', '80', '--tokens', 'k', '--rate', '0'], /--rate must be a number in \[1, 1e\+06\], got '0'/],
      [['--port', '80', '--tokens', 'k', '--connections', '1.5x'], /--connections must be a number/],
      [['--port', '80', '--tokens', 'k', '--bogus', '1'], /unknown option/],
      [['--port', '80', '--tokens'], /every option takes a value/],
      [['--port', '80', '--tokens', 'k', '--prefix', 'a"b'], /too long or quoted/],
    ];
    for (const [args, reason] of cases) {
      const run = spawnSync(binary, args, { encoding: 'utf8' });
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(reason);
    }
  });

  it('checks what the wrapper passes on', () => {
    const base = { tokens: ['k'], rate: 100, durationMs: 1000, warmupMs: 0, drainMs: 1000, connections: 1 };
    expect(() => nativeLoadArgs({ ...base, url: 'ws://localhost:80/v1/ws' }, '/tmp/x', 'p-')).toThrow(/IPv4/);
    expect(() => nativeLoadArgs({ ...base, url: 'wss://127.0.0.1:80/v1/ws' }, '/tmp/x', 'p-')).toThrow(/IPv4/);
    expect(() => nativeLoadArgs({ ...base, url: 'ws://127.0.0.1:8080/v1/ws', tokens: ['a b'] }, '/tmp/x', 'p-')).toThrow(/escaping/);
    expect(() => nativeLoadArgs({ ...base, url: 'ws://127.0.0.1:8080/v1/ws', order: { symbols: ['AAPL', 'MSFT'], qty: 1, buyPrice: '1.00', sellPrice: '9999.00', tif: 'IOC' } }, '/tmp/x', 'p-')).toThrow(/one symbol/);
    expect(nativeLoadArgs({ ...base, url: 'ws://127.0.0.1:8080/v1/ws' }, '/tmp/x', 'p-')).toEqual(expect.arrayContaining(['--port', '8080', '--path', '/v1/ws', '--rate', '100']));
  });

  it('a server it cannot reach fails the run with the reason', async () => {
    const port = await freePort(); // bound, then closed: nothing listens on it
    await expect(native.run({ url: `ws://127.0.0.1:${port}/v1/ws`, tokens: ['k'], rate: 100, durationMs: 200, warmupMs: 0, drainMs: 100, connections: 1 }))
      .rejects.toThrow(/ws-load exited with code 1.*connect: Connection refused/s);
  });

  it('orders a stalled server never answers in time are timed out, recorded at the drain deadline', async () => {
    // The stub stops for 1.5 s at its 50th order; the drain ends 0.3 s after the last order was
    // due (at 0.5 s), so every order from the 50th on is unanswered at the deadline (0.8 s).
    stub.reset({ afterOrders: 50, ms: 1500 });
    const rate = 200;
    const result = await native.run({ url: `ws://127.0.0.1:${stub.port}/v1/ws`, tokens: ['k'], rate, durationMs: 500, warmupMs: 0, drainMs: 300, connections: 2 });
    expect(stub.stalls).toHaveLength(1);
    const orders = 100;
    // The 50th order's ack was sent after the stall; the orders before it were acked in time.
    expect(result.counts.orders).toBe(orders);
    expect(result.counts.sent).toBe(orders);
    expect(result.counts.acked).toBeLessThanOrEqual(49);
    expect(result.counts.acked + result.counts.timedOut).toBe(orders);
    expect(result.counts.timedOut).toBeGreaterThanOrEqual(51);
    // Every order is in the histogram; the first timed-out one waited from its intended time
    // (49 / rate s) to the deadline (0.8 s): about 555 ms.
    expect(result.latencyUs.count).toBe(orders);
    expect(result.latencyUs.max / 1000).toBeGreaterThanOrEqual(800 - (49 * 1000) / rate - 1);
    expect(result.latencyUs.max / 1000).toBeLessThanOrEqual(800);
  });

  it('reads the latencies file: unanswered at the deadline, unsent left out, one record per measured order', () => {
    const records = [
      [2_000_000n, 10_000n], // order 10: 2 ms, sent 10 us late
      [-1n, 5_000n], //         order 11: sent, unanswered
      [-2n, -1n], //            order 12: never sent
    ];
    const bytes = Buffer.alloc(records.length * 16);
    records.forEach(([lat, lag], i) => {
      bytes.writeBigInt64LE(lat, i * 16);
      bytes.writeBigInt64LE(lag, i * 16 + 8);
    });
    // rate 10/s, warm-up 1 s, 0.3 s measured: orders 10, 11 and 12, intended at 1.0, 1.1 and 1.2 s; deadline 1 + 0.3 + 3 = 4.3 s.
    const schedule = { rate: 10, warmupMs: 1000, durationMs: 300, drainMs: 3000 };
    expect(scheduleCounts(schedule)).toEqual({ first: 10, total: 13 });
    const { latency, sendLag } = histogramsOfLatencies(bytes, schedule);
    expect(latency.totalCount).toBe(2);
    expect(latency.getValueAtPercentile(0)).toBeGreaterThanOrEqual(1999);
    expect(latency.getValueAtPercentile(0)).toBeLessThanOrEqual(2001);
    // Unanswered: 4300 - 1100 ms (HDR: 3 significant digits).
    expect(latency.maxValue / 1000).toBeCloseTo(3200, -1);
    expect(sendLag.totalCount).toBe(2);
    // A file that is not one record per measured order is refused (a schedule the C side counted otherwise).
    expect(() => histogramsOfLatencies(bytes.subarray(0, 32), schedule)).toThrow(/3 records of 16 bytes, got 32/);
  });

  it('a server that takes the connection and never answers the upgrade fails the run (no hang)', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(native.run({ url: `ws://127.0.0.1:${port}/v1/ws`, tokens: ['k'], rate: 100, durationMs: 200, warmupMs: 0, drainMs: 100, connections: 1 }))
        .rejects.toThrow(/ws-load exited with code 1.*read upgrade/s);
    } finally {
      silent.close();
    }
  }, 30_000);

});
