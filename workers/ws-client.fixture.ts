/**
 * A test trader: a real WebSocket client (Node's WebSocket) that queues every message it
 * receives and waits, with a timeout, for one matching a predicate. Shared by the end-to-end
 * tests of the engine and of the ingest edge.
 */
export type Msg = Record<string, unknown>;

export class Trader {
  readonly ws: WebSocket;
  private readonly inbox: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  /** Close code and reason once the server closed the connection. */
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  /** Decodes binary frames (FlatBuffers) when the test speaks them. */
  decodeBinary: ((bytes: Uint8Array) => Msg) | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onmessage = (e) => {
      const m = typeof e.data === 'string' ? (JSON.parse(e.data) as Msg) : this.decode(new Uint8Array(e.data as ArrayBuffer));
      const w = this.waiters.find((x) => x.pred(m));
      if (w !== undefined) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      } else {
        this.inbox.push(m);
      }
    };
    this.ws.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const w of this.closeWaiters) w(this.closed);
      this.closeWaiters = [];
    };
  }

  private decode(bytes: Uint8Array): Msg {
    if (this.decodeBinary === null) throw new Error('binary frame received but no decoder set');
    return this.decodeBinary(bytes);
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error('websocket failed'));
    });
  }

  send(m: Msg): void {
    this.ws.send(JSON.stringify(m));
  }

  next(pred: (m: Msg) => boolean, timeoutMs = 10_000): Promise<Msg> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  /** Messages received and not yet taken by next(). */
  pending(): Msg[] {
    return this.inbox.slice();
  }

  whenClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed !== null) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the close')), timeoutMs);
      this.closeWaiters.push((c) => { clearTimeout(timer); resolve(c); });
    });
  }
}

/** Opens a trader and waits for the server's hello. */
export async function connect(url: string): Promise<Trader> {
  const t = new Trader(url);
  await t.opened();
  await t.next((m) => m.type === 'hello');
  return t;
}
