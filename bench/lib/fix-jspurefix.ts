/**
 * jspurefix (MIT, npm) set up as the FIX benchmark's baseline: its AsciiParser over the same byte
 * stream our parser reads, and its AsciiMsgTransmitter encoding the same messages from objects.
 *
 * What each baseline does per message, chosen to match what its own session does on receive
 * (jspurefix/dist/transport/ascii/ascii-session.js, checkIntegrity):
 *   - parse:          AsciiParser tokenises, finds the message structure from the FIX44.xml
 *                     dictionary and builds a MsgView ('msg' event); then view.checksum() (the
 *                     session's CheckSum check, compared with the declared 10).
 *   - parse+validate: the same, plus view.invalid(), view.undefinedForMsg(), view.missing()
 *                     (tags not in the message, tags undefined for it, required tags missing).
 *   - encode:         encoder.reset(), AsciiMsgTransmitter.encodeMessage(msgType, object) (header,
 *                     body, BodyLength, CheckSum) and encoder.trim() (the wire bytes), as its
 *                     MsgTransmitter's encoder stream does, from objects built once at start-up.
 *
 * The dictionary is the QuickFIX FIX44.xml shipped in the package (data/FIX44.xml). Setup is
 * asynchronous (the dictionary is parsed from XML); everything after it is synchronous.
 * Allocates freely: this is the comparison, not our code.
 */

import 'reflect-metadata';
import { createRequire } from 'node:module';
import jspurefix from 'jspurefix';
import type { IJsFixConfig, ISessionDescription, MsgView } from 'jspurefix';
import type { ErFields, FixStream, NosFields } from './fix-messages.ts';

const require = createRequire(import.meta.url);
const { SessionContainer, DITokens, DefinitionFactory, AsciiParser } = jspurefix;
// Not re-exported by the package index; the package has no "exports" map, so deep paths load.
const { makeSessionScope } = require('jspurefix/dist/runtime/session-scope.js') as {
  makeSessionScope: (config: IJsFixConfig, overrides?: Partial<ISessionDescription>) => IJsFixConfig;
};
const { AsciiMsgTransmitter } = require('jspurefix/dist/transport/ascii/ascii-msg-transmitter.js') as {
  AsciiMsgTransmitter: new (config: IJsFixConfig) => JspfTransmitter;
};

interface JspfTransmitter {
  encoder: { reset(): void; trim(): Buffer };
  encodeMessage(msgType: string, obj: Record<string, unknown>): unknown;
  buffer: { getPos(): number };
}

interface JspfParser {
  on(event: 'msg', listener: (msgType: string, view: MsgView) => void): void;
  parseBuffer(buf: Buffer, end?: number): void;
}

export const JSPUREFIX_DICTIONARY = 'data/FIX44.xml';
export const JSPUREFIX_VERSION: string = (require('jspurefix/package.json') as { version: string }).version;
const SOH = 1;

function description(sender: string, target: string): ISessionDescription {
  return {
    application: { reconnectSeconds: 1, type: 'initiator', name: 'fix-bench', tcp: { host: '127.0.0.1', port: 1 }, protocol: 'ascii', dictionary: JSPUREFIX_DICTIONARY },
    EncryptMethod: 0,
    ResetSeqNumFlag: true,
    HeartBtInt: 30,
    SenderCompId: sender,
    TargetCompID: target,
    BeginString: 'FIX.4.4',
  } as unknown as ISessionDescription;
}

/** One jspurefix parser with its per-message work; counts what it saw. */
export class JspfParseCase {
  /** Messages seen since reset(). */
  messages = 0;
  /** Sum of view.checksum() (defeats dead-code elimination, and is checked against ours). */
  checksumSum = 0;
  /** Messages whose computed checksum differs from the declared CheckSum (10). */
  checksumErrors = 0;
  /** Messages that failed invalid()/undefinedForMsg()/missing() (validate case only). */
  invalidMessages = 0;
  readonly validate: boolean;
  private readonly parser: JspfParser;

  constructor(config: IJsFixConfig, validate: boolean) {
    this.validate = validate;
    const scoped = makeSessionScope(config);
    const container = scoped.sessionContainer;
    const buffer = container.resolve(DITokens.ParseBuffer);
    const maxMessageLen = container.resolve<number>(DITokens.maxMessageLen);
    this.parser = new AsciiParser(scoped, null, buffer as never, maxMessageLen) as unknown as JspfParser;
    this.parser.on('msg', (_msgType, view) => this.onMsg(view));
  }

  private onMsg(view: MsgView): void {
    this.messages++;
    const computed = view.checksum();
    this.checksumSum += computed;
    if (Number(view.getString(10)) !== computed) this.checksumErrors++;
    if (this.validate && (view.invalid().length > 0 || view.undefinedForMsg() !== null || view.missing().length > 0)) this.invalidMessages++;
  }

  reset(): void {
    this.messages = 0;
    this.checksumSum = 0;
    this.checksumErrors = 0;
    this.invalidMessages = 0;
  }

  /** Parses the whole stream once; returns messages seen so far. */
  parse(stream: Buffer): number {
    this.parser.parseBuffer(stream, stream.length);
    return this.messages;
  }
}

/** jspurefix's encoder with the messages as objects, built once. */
export class JspfEncodeCase {
  readonly msgType: string;
  readonly objects: Record<string, unknown>[];
  private readonly tx: JspfTransmitter;
  private last: Buffer;

  constructor(config: IJsFixConfig, sender: string, target: string, msgType: string, objects: Record<string, unknown>[]) {
    this.msgType = msgType;
    this.objects = objects;
    const scoped = makeSessionScope(config, { SenderCompId: sender, TargetCompID: target } as Partial<ISessionDescription>);
    this.tx = new AsciiMsgTransmitter(scoped);
    this.last = Buffer.alloc(0);
  }

  /** Encodes message i; returns its length in bytes. */
  encode(i: number): number {
    // As its MsgTransmitter.send does before every message: without it the tag index grows
    // (and the CheckSum it computes goes wrong).
    this.tx.encoder.reset();
    this.tx.encodeMessage(this.msgType, this.objects[i]);
    // trim(): the wire bytes (a copy with SOH put back where the log delimiter '|' was written).
    this.last = this.tx.encoder.trim();
    return this.last.length;
  }

  /** A copy of the last message encoded. Allocates; for checks. */
  lastBytes(): Buffer {
    return this.last;
  }

  /** The last message encoded, SOH shown as '|'. Allocates; for checks and logs. */
  lastText(): string {
    return this.last.toString('latin1').replaceAll('\x01', '|');
  }
}

const SYMBOLS = ['AAPL', 'MSFT', 'TSLA', 'GOOGL', 'AMZN'];
const ACCOUNTS = ['TRADER1', 'TRADER2', 'OPS'];
const TEXTS = ['IOC remainder canceled', 'canceled by client', 'no more liquidity for market order'];
const EXEC_TYPE = ['0', 'F', 'F', '4', '8'];
const ORD_STATUS = ['0', '1', '2', '4', '8'];
const VENUES = ['V1', 'V2', 'V3'];
/** Prices as jspurefix takes them (JS numbers); only the baseline sees floats. */
const toPrice = (ticks: number): number => ticks / 1_000_000;

/** The NewOrderSingles of `f` as jspurefix objects (same fields, same order of meaning). */
export function nosObjects(f: NosFields): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < f.n; i++) {
    const o: Record<string, unknown> = { ClOrdID: String(f.childId[i]) };
    if (f.account[i] >= 0) o.Account = ACCOUNTS[f.account[i]];
    o.Instrument = { Symbol: SYMBOLS[f.symbol[i]] };
    o.Side = String.fromCharCode(f.side[i]);
    o.TransactTime = new Date(f.timeMs[i]);
    o.OrderQtyData = { OrderQty: f.qty[i] };
    o.OrdType = String.fromCharCode(f.ordType[i]);
    if (f.ordType[i] === 0x32) o.Price = toPrice(f.priceTicks[i]);
    o.TimeInForce = String.fromCharCode(f.tif[i]);
    out.push(o);
  }
  return out;
}

/** The ExecutionReports of `f` as jspurefix objects. */
export function erObjects(f: ErFields): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < f.n; i++) {
    const v = VENUES[f.venue[i]];
    const kind = f.kind[i];
    const o: Record<string, unknown> = {
      OrderID: `${v}-${f.orderSeq[i]}`,
      ExecID: `${v}-E${f.execSeq[i]}`,
      ClOrdID: String(f.clOrdId[i]),
      ExecType: EXEC_TYPE[kind],
      OrdStatus: ORD_STATUS[kind],
      Instrument: { Symbol: SYMBOLS[f.symbol[i]] },
      Side: String.fromCharCode(f.side[i]),
      OrderQtyData: { OrderQty: f.orderQty[i] },
      OrdType: String.fromCharCode(f.ordType[i]),
    };
    if (f.ordType[i] === 0x32) o.Price = toPrice(f.priceTicks[i]);
    Object.assign(o, {
      LastQty: f.lastQty[i], LastPx: toPrice(f.lastPxTicks[i]), LeavesQty: f.leavesQty[i], CumQty: f.cumQty[i], AvgPx: toPrice(f.avgPxTicks[i]),
    });
    if (f.commissionTicks[i] > 0) o.CommissionData = { Commission: toPrice(f.commissionTicks[i]), CommType: '3' };
    if (kind === 4) Object.assign(o, { OrdRejReason: 1, Text: 'unknown symbol' });
    else if (f.text[i] >= 0) o.Text = TEXTS[f.text[i]];
    o.TransactTime = new Date(f.timeMs[i]);
    out.push(o);
  }
  return out;
}

export interface JspfCases {
  parse: JspfParseCase;
  parseValidate: JspfParseCase;
  encodeNos: JspfEncodeCase;
  encodeEr: JspfEncodeCase;
}

/** Loads the FIX44.xml dictionary and builds the parsers and encoders (asynchronous, once). */
export async function createJspfCases(nos: NosFields, er: ErFields): Promise<JspfCases> {
  const sys = new SessionContainer();
  sys.registerGlobal('error');
  const container = await sys.makeSystem(description('OMS', 'V1'));
  const config = container.resolve<IJsFixConfig>(DITokens.IJsFixConfig);
  config.definitions = await new DefinitionFactory().getDefinitions(JSPUREFIX_DICTIONARY);
  config.delimiter = SOH;
  return {
    parse: new JspfParseCase(config, false),
    parseValidate: new JspfParseCase(config, true),
    encodeNos: new JspfEncodeCase(config, 'OMS', 'V1', 'D', nosObjects(nos)),
    encodeEr: new JspfEncodeCase(config, 'V1', 'OMS', '8', erObjects(er)),
  };
}

/** Our stream as a Buffer view (no copy) for jspurefix's parser. */
export function asBuffer(stream: FixStream): Buffer {
  return Buffer.from(stream.bytes.buffer, stream.bytes.byteOffset, stream.bytes.byteLength);
}
