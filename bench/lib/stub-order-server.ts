/**
 * A stub order server for testing the harness itself: uWebSockets.js on the calling thread,
 * speaking the JSON order protocol's happy path (hello on open; every "new" acked at once with
 * its clOrdId), and able to stall on purpose: after its n-th order it blocks its event loop for
 * a known time, as a GC pause or a stuck stage would. The stall is a busy wait, so it lasts at
 * least that long however loaded the machine is.
 */

import * as uWS from 'uWebSockets.js';

export interface StubStall {
  /** Stall while handling this order (1-based count of orders received since the last reset). */
  afterOrders: number;
  ms: number;
}

export interface StubServer {
  port: number;
  /** Orders received since the last reset(). */
  readonly received: number;
  /** Monotonic (performance.now) start of every stall taken. */
  readonly stalls: number[];
  /** Arms the next stall (or none) and zeroes the order count. */
  reset(stall: StubStall | null): void;
  close(): void;
}

export function startStubServer(): Promise<StubServer> {
  const app = uWS.App();
  let stall: StubStall | null = null;
  let received = 0;
  const stalls: number[] = [];
  const sockets = new Set<uWS.WebSocket<unknown>>();
  app.ws('/v1/ws', {
    compression: 0,
    maxPayloadLength: 16 * 1024,
    open: (ws) => {
      sockets.add(ws);
      ws.send('{"type":"hello","accountId":1,"connId":0}', false);
    },
    close: (ws) => {
      sockets.delete(ws);
    },
    message: (ws, message) => {
      const m = JSON.parse(Buffer.from(message).toString('utf8')) as { type?: string; clOrdId?: string };
      if (m.type !== 'new') return;
      received++;
      if (stall !== null && received === stall.afterOrders) {
        const start = performance.now();
        stalls.push(start);
        while (performance.now() - start < stall.ms);
      }
      ws.send(JSON.stringify({ type: 'ack', execType: 'NEW', orderId: received, clOrdId: m.clOrdId, status: 'NEW' }), false);
    },
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (listenSocket) => {
      if (listenSocket === false) {
        reject(new Error('stub server: cannot listen'));
        return;
      }
      resolve({
        port: uWS.us_socket_local_port(listenSocket),
        get received() {
          return received;
        },
        stalls,
        reset(next) {
          stall = next;
          received = 0;
        },
        close() {
          uWS.us_listen_socket_close(listenSocket);
          for (const ws of sockets) ws.close();
          app.close();
        },
      });
    });
  });
}
