/**
 * Goal: with `http.tls` set, the engine's WebSocket and REST listener speaks only TLS (https://
 * and wss://) with the configured certificate, the private key's passphrase read from its file;
 * a plain-text client gets nothing; bad TLS settings stop the start-up with a clear error.
 * Method: a self-signed certificate and an encrypted key generated with openssl at test time; the
 * real engine (no venues needed) started through scripts/stack.ts; node:https and the `ws`
 * client trusting exactly that certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../../scripts/stack.ts';
import { ConfigError, loadConfig, validateConfig } from '../config.ts';
import { FixSession, SessionRole } from '../../fix/session.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixInitiator } from '../../fix/tcp.ts';
import { RecordingApp } from '../../fix/test-util.ts';

let dir: string;
let ca: Buffer;
let stack: Stack;
let port: number;

function tlsConfig(passphraseFile: string): Record<string, unknown> {
  return {
    http: { host: '127.0.0.1', port: 0, tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), passphraseFile } },
    fixAcceptor: { port: 0, tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), passphraseFile } },
    venues: [],
    journal: { dir: join(dir, 'journal'), fsync: 'none', fsyncIntervalMs: 10 },
    metrics: { host: '127.0.0.1', port: 0 },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oms-tls-'));
  writeFileSync(join(dir, 'pass.txt'), 'test-passphrase-1\n');
  writeFileSync(join(dir, 'wrong.txt'), 'not-the-passphrase\n');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-passout', `file:${join(dir, 'pass.txt')}`,
  ], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'cert.pem'));
  stack = await startStack(validateConfig(tlsConfig(join(dir, 'pass.txt'))), { log: () => {} });
  port = stack.info.httpPort;
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function httpsGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, headers, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS on the WebSocket and REST listener', () => {
  it('serves REST, health and the page over https with the configured certificate', async () => {
    const health = await httpsGet('/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).state).toBe('RUNNING');
    const positions = await httpsGet('/v1/positions', { Authorization: 'Bearer demo-key-trader1' });
    expect(positions.status).toBe(200);
    expect(JSON.parse(positions.body).type).toBe('positions');
    expect((await httpsGet('/')).body).toContain('<title>OMS trader</title>');
  });

  it('speaks wss:// to a WebSocket client', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/ws?token=demo-key-trader1`, { ca });
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))));
      ws.once('error', reject);
    });
    expect(hello.type).toBe('hello');
    expect(hello.accountId).toBe(1);
    ws.send(JSON.stringify({ type: 'new', clOrdId: 'tls-1', symbol: 'NOPE', side: 'BUY', qty: 1, price: '1', ordType: 'LIMIT', tif: 'DAY' }));
    const reject = await new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
    expect(reject.reasonName).toBe('UNKNOWN_SYMBOL');
    ws.close();
  });

  it('a client that does not trust the certificate is refused', async () => {
    await expect(new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/health' }, resolve);
      req.on('error', reject);
      req.end();
    })).rejects.toThrow(/self-signed|certificate/i);
  });

  it('plain http on the TLS port gets no HTTP answer', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = httpGet({ host: '127.0.0.1', port, path: '/health', timeout: 5000 }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', () => resolve('error'));
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
    });
    expect(outcome).not.toMatch(/^status 2/);
  });

  it('the FIX acceptor speaks FIX over TLS (fixAcceptor.tls): a trusting client logs on, a plain one never does', async () => {
    const logon = async (tls: { ca: Buffer; servername: string } | undefined): Promise<{ session: FixSession; initiator: FixInitiator }> => {
      const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'CLIENT1', targetCompId: 'OMS', clock: { now: () => Date.now() }, app: new RecordingApp(), heartBtIntSec: 30, resetSeqNumOnLogon: true });
      const initiator = new FixInitiator({ port: stack.info.fixPort, session, timerIntervalMs: 50, reconnectMinMs: 50, reconnectMaxMs: 200, tls });
      initiator.start();
      return { session, initiator };
    };
    const secure = await logon({ ca, servername: 'localhost' });
    const plain = await logon(undefined);
    try {
      const deadline = Date.now() + 15_000;
      while (secure.session.state !== SessionState.ACTIVE) {
        if (Date.now() > deadline) throw new Error('FIX logon over TLS timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
      // The plain client tries a few times meanwhile; it never gets past the TLS handshake.
      while (plain.initiator.attempts < 3) await new Promise((r) => setTimeout(r, 20));
      expect(plain.session.state).not.toBe(SessionState.ACTIVE);
    } finally {
      await Promise.all([secure.initiator.stop(), plain.initiator.stop()]);
    }
  });

  it('refuses TLS settings naming files that cannot be read', () => {
    const bad = { http: { tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'key.pem') } } };
    expect(() => validateConfig(bad)).toThrow(ConfigError);
    expect(() => validateConfig(bad)).toThrow(/http\.tls\.certFile/);
    expect(() => validateConfig({ http: { tls: { certFile: join(dir, 'cert.pem') } } })).toThrow(/http\.tls\.keyFile/);
    expect(() => validateConfig({ http: { tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), pem: 'x' } } })).toThrow(/http\.tls\.pem/);
  });

  it('takes TLS files from the environment', () => {
    const c = loadConfig({ TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem'), TLS_PASSPHRASE_FILE: join(dir, 'pass.txt') }, undefined);
    expect(c.http.tls).toEqual({ certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), passphraseFile: join(dir, 'pass.txt') });
  });
});
