// Goal: the venue runs as a separate process and trades over real FIX/TCP. Method: spawn
// `node sim/venue.ts --port 0` with the node running vitest, read the port from its one stdout
// line, log on with a FixInitiator, send orders, receive execution reports, then SIGTERM the
// child and check it exits 0. Every wait has a deadline; the child is killed whatever happens.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ascii } from '../fix/encoder.ts';
import { SendResult } from '../fix/fix-codes.ts';
import { MsgType } from '../fix/msg-type.ts';
import { SessionState } from '../fix/session-state.ts';
import { FixSession, SessionRole } from '../fix/session.ts';
import { Tag } from '../fix/tags.ts';
import { FixInitiator } from '../fix/tcp.ts';
import { RecordingApp } from '../fix/test-util.ts';

const VENUE = fileURLToPath(new URL('./venue.ts', import.meta.url));
const children: ChildProcess[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function startVenue(args: string[]): Promise<{ child: ChildProcess; port: number; line: string }> {
  const child = spawn(process.execPath, [VENUE, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`venue did not start: ${stderr}`)), 15_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^venue (\S+) listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[2]), line: out.trim() });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`venue exited with ${code}: ${stderr}`));
    });
  });
}

describe('venue process end to end', () => {
  it('fills a NewOrderSingle sent by our initiator, then exits cleanly on SIGTERM', async () => {
    const { child, port, line } = await startVenue(['--name', 'V7', '--seed', '7', '--clients', 'OMS', '--fee-bps', '1', '--latency-ms', '2']);
    expect(line).toBe(`venue V7 listening on 127.0.0.1:${port}`);
    const app = new RecordingApp();
    const clock = { now: () => Date.now() };
    const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V7', clock, app, heartBtIntSec: 5, resetSeqNumOnLogon: true });
    const initiator = new FixInitiator({ port, session, timerIntervalMs: 50 });
    initiator.start();
    stops.push(() => initiator.stop());
    await waitFor(() => session.state === SessionState.ACTIVE, 'logon');

    // A market buy larger than one level: New, then fills across levels.
    const e = session.beginApp(MsgType.NEW_ORDER_SINGLE);
    e.addAscii(Tag.ClOrdID, ascii('E2E-1')).addAscii(Tag.Account, ascii('ACC1')).addAscii(Tag.Symbol, ascii('AAPL'));
    e.addChar(Tag.Side, 0x31).addInt(Tag.OrderQty, 500).addChar(Tag.OrdType, 0x31).addChar(Tag.TimeInForce, 0x33);
    e.addUtcTimestamp(Tag.TransactTime, clock.now());
    expect(session.sendApp()).toBe(SendResult.OK);
    await waitFor(() => app.appMessages.some((m) => m[Tag.ClOrdID] === 'E2E-1' && (m[Tag.OrdStatus] === '2' || m[Tag.OrdStatus] === '4')), 'order done');
    const reports = app.appMessages.filter((m) => m[Tag.ClOrdID] === 'E2E-1');
    expect(reports[0][Tag.ExecType]).toBe('0');
    const fills = reports.filter((m) => m[Tag.ExecType] === 'F');
    expect(fills.length).toBeGreaterThan(1);
    expect(fills.reduce((n, m) => n + Number(m[Tag.LastQty]), 0)).toBe(Number(reports[reports.length - 1][Tag.CumQty]));
    expect(fills.every((m) => m[Tag.Commission] !== undefined)).toBe(true);

    // A cancel for an unknown order gets an OrderCancelReject.
    const f = session.beginApp(MsgType.ORDER_CANCEL_REQUEST);
    f.addAscii(Tag.OrigClOrdID, ascii('NOPE')).addAscii(Tag.ClOrdID, ascii('E2E-X')).addAscii(Tag.Symbol, ascii('AAPL')).addChar(Tag.Side, 0x31);
    f.addUtcTimestamp(Tag.TransactTime, Date.now()).addAscii(Tag.OrderQty, ascii('1'));
    session.sendApp();
    await waitFor(() => app.appMessages.some((m) => m[35] === '9'), 'cancel reject');

    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitFor(() => session.state === SessionState.DISCONNECTED, 'initiator sees the venue leave');
  });

  it('refuses invalid options with exit code 2', async () => {
    const child = spawn(process.execPath, [VENUE, '--reject-prob', '7'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/--reject-prob/);
  });
});
