/**
 * A TCP proxy between the engine and a venue for FIX end-to-end tests: it records both
 * directions (`messages` splits them into FIX messages) and can swallow what the engine sends,
 * hold what the venue sends, and cut or refuse connections.
 */
import * as net from 'node:net';

/** A TCP proxy that records both directions and can swallow, hold, cut and refuse. */
export class FixProxy {
  readonly toVenue: Buffer[] = [];
  readonly toEngine: Buffer[] = [];
  swallow = false;
  refuse = false;
  /**
   * When set, the next NewOrderSingle (35=D) the engine sends goes on to the venue, and from
   * then on nothing the venue sends reaches the engine: it is kept in `held` instead (the engine
   * never reads it), until release().
   */
  holdAfterNewOrder = false;
  /** Called once, synchronously, as the hold starts (a crash test kills the engine here). */
  onHold: (() => void) | null = null;
  readonly held: Buffer[] = [];
  private holding = false;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private readonly server: net.Server;
  port = 0;
  private readonly upstreamPort: number;

  constructor(upstreamPort: number) {
    this.upstreamPort = upstreamPort;
    this.server = net.createServer((down) => this.onConnection(down));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as net.AddressInfo).port;
      resolve(this.port);
    }));
  }

  private onConnection(down: net.Socket): void {
    if (this.refuse) {
      down.destroy();
      return;
    }
    const up = net.connect({ port: this.upstreamPort, host: '127.0.0.1' });
    const pair: [net.Socket, net.Socket] = [down, up];
    this.pairs.add(pair);
    /** The last bytes of this connection's previous chunk, so a 35=D split across chunks is still seen. */
    let tail: Buffer = Buffer.alloc(0);
    down.on('data', (b: Buffer) => {
      this.toVenue.push(b);
      // Held before the order is passed on: the venue's answer to it can only come after.
      if (this.holdAfterNewOrder && !this.holding && Buffer.concat([tail, b]).includes('\x0135=D\x01')) {
        this.holding = true;
        this.onHold?.();
      }
      tail = b.subarray(Math.max(0, b.length - 5));
      if (!this.swallow) up.write(b);
    });
    up.on('data', (b: Buffer) => {
      if (this.holding) {
        this.held.push(b);
        return;
      }
      this.toEngine.push(b);
      down.write(b);
    });
    const end = () => {
      this.pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  }

  /** Whether a NewOrderSingle has gone to the venue since holdAfterNewOrder was set (the venue's bytes held since). */
  isHolding(): boolean {
    return this.holding;
  }

  /** Stops holding, on every connection (call once the one that held is gone); what was held stays in `held`. */
  release(): void {
    this.holdAfterNewOrder = false;
    this.holding = false;
  }

  /** Drops every connection now; with refuse set, new ones are dropped too. */
  cut(): void {
    for (const [down, up] of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export type Fields = Map<number, string>;

/** Splits a recorded byte stream into FIX messages (fields by tag; the last of a repeated tag wins). */
export function messages(chunks: Buffer[]): Fields[] {
  const text = Buffer.concat(chunks).toString('latin1');
  return text.split('8=FIX.4.4\x01').filter((m) => m.length > 0).map((m) => {
    const f: Fields = new Map();
    for (const part of m.split('\x01')) {
      const eq = part.indexOf('=');
      if (eq > 0) f.set(Number(part.slice(0, eq)), part.slice(eq + 1));
    }
    return f;
  });
}

