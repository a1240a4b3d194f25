/**
 * Micro benchmark of the FIX codec on one core: parse, and encode, a typical ExecutionReport.
 *
 *     encoder --bytes--> [buf] --parse + 6 typed reads--> checksum
 *
 * Run: node fix/codec.bench.ts [messages]. It prints msgs/s for each and a checksum of the work
 * so the optimiser cannot skip it. The design target is >= 2 M parses/s on one core (DESIGN.md);
 * absolute numbers drift on shared machines, so compare runs made on the same machine.
 */
import { FixEncoder, ascii } from './encoder.ts';
import { MsgType } from './msg-type.ts';
import { FixParser } from './parser.ts';
import { Tag } from './tags.ts';

export interface CodecBenchResult {
  messages: number;
  parseMsgsPerSec: number;
  encodeMsgsPerSec: number;
  checksum: number;
}

export function runCodecBench(messages: number): CodecBenchResult {
  const enc = new FixEncoder();
  const sender = ascii('V1');
  const target = ascii('OMS');
  const clOrdId = ascii('ORD-000123456');
  const orderId = ascii('V1-987654');
  const symbol = ascii('AAPL');
  const encodeOne = (seq: number): number => {
    enc.begin(MsgType.EXECUTION_REPORT, sender, target, seq, 1_767_600_000_000 + seq);
    enc.addAscii(Tag.OrderID, orderId).addInt(Tag.ExecID, seq).addAscii(Tag.ClOrdID, clOrdId);
    enc.addChar(Tag.ExecType, 0x46).addChar(Tag.OrdStatus, 0x31).addAscii(Tag.Symbol, symbol).addChar(Tag.Side, 0x31);
    enc.addInt(Tag.OrderQty, 1000).addInt(Tag.LastQty, 100).addTicks(Tag.LastPx, 177_250_000);
    enc.addInt(Tag.LeavesQty, 900).addInt(Tag.CumQty, 100).addTicks(Tag.AvgPx, 177_250_000);
    return enc.finish();
  };
  let checksum = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= messages; i++) checksum = (checksum + encodeOne(i)) | 0;
  const t1 = process.hrtime.bigint();
  // Parse one fixed frame repeatedly (copied once), reading what an engine reads per report.
  const length = encodeOne(1);
  const frame = enc.buf.slice(enc.start, enc.start + length);
  const p = new FixParser();
  const t2 = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) {
    const r = p.parse(frame, 0, frame.length);
    checksum = (checksum + r + p.msgType + p.getInt(Tag.MsgSeqNum) + p.getQty(Tag.LastQty) + p.getTicks(Tag.LastPx) + p.getChar(Tag.ExecType) + p.valueStart(Tag.ClOrdID)) | 0;
  }
  const t3 = process.hrtime.bigint();
  return {
    messages,
    encodeMsgsPerSec: Math.round(messages / (Number(t1 - t0) / 1e9)),
    parseMsgsPerSec: Math.round(messages / (Number(t3 - t2) / 1e9)),
    checksum,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 2_000_000);
  runCodecBench(Math.min(n, 200_000)); // warm-up
  const r = runCodecBench(n);
  process.stdout.write(`fix codec: parse ${(r.parseMsgsPerSec / 1e6).toFixed(2)} M msgs/s, encode ${(r.encodeMsgsPerSec / 1e6).toFixed(2)} M msgs/s (${r.messages} msgs, checksum ${r.checksum})\n`);
}
