/**
 * FIX MsgType (35) packed into one integer, so the hot path compares numbers, not strings
 * (Artio does the same). Byte i of the value is shifted left by 8*i:
 *
 *     "D"  -> 0x44                 = 68
 *     "AE" -> 0x41 | (0x45 << 8)   = 17729
 *
 * Up to 4 bytes fit in a positive 32-bit integer range; FIX 4.4 types have 1 or 2.
 */

/** Packs bytes[start, end) (1..4 bytes) into an integer, or returns -1 if the length is out of range. */
export function packMsgType(bytes: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len < 1 || len > 4) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) v += bytes[start + i] * 2 ** (8 * i);
  return v;
}

/** Packs an ASCII string; for constants and tests (allocates nothing but is not for per-message use). */
export function packMsgTypeString(s: string): number {
  if (s.length < 1 || s.length > 4) throw new Error('Condition failed: MsgType has 1..4 characters');
  let v = 0;
  for (let i = 0; i < s.length; i++) v += s.charCodeAt(i) * 2 ** (8 * i);
  return v;
}

/** Writes a packed MsgType as ASCII at offset; returns the offset after it. Allocates nothing. */
export function writeMsgType(bytes: Uint8Array, offset: number, packed: number): number {
  let v = packed;
  do {
    bytes[offset++] = v % 256;
    v = Math.floor(v / 256);
  } while (v > 0);
  return offset;
}

/** The message types this layer and its users name; the values are packMsgTypeString(x). */
export const MsgType = {
  HEARTBEAT: 0x30, // "0"
  TEST_REQUEST: 0x31, // "1"
  RESEND_REQUEST: 0x32, // "2"
  REJECT: 0x33, // "3" session-level reject
  SEQUENCE_RESET: 0x34, // "4"
  LOGOUT: 0x35, // "5"
  EXECUTION_REPORT: 0x38, // "8"
  ORDER_CANCEL_REJECT: 0x39, // "9"
  LOGON: 0x41, // "A"
  NEW_ORDER_SINGLE: 0x44, // "D"
  ORDER_CANCEL_REQUEST: 0x46, // "F"
  ORDER_CANCEL_REPLACE_REQUEST: 0x47, // "G"
  ORDER_STATUS_REQUEST: 0x48, // "H"
  MARKET_DATA_SNAPSHOT: 0x57, // "W" MarketDataSnapshotFullRefresh
  BUSINESS_MESSAGE_REJECT: 0x6a, // "j"
  TRADE_CAPTURE_REPORT_ACK: 0x41 | (0x52 << 8), // "AR"
} as const;

/** True for the seven session-level (admin) messages of FIX 4.4: 0,1,2,3,4,5,A. */
export function isAdminMsgType(packed: number): boolean {
  return (packed >= MsgType.HEARTBEAT && packed <= MsgType.LOGOUT) || packed === MsgType.LOGON;
}

// The constants must agree with the packing rule: checked once at module load.
if (MsgType.LOGON !== packMsgTypeString('A')) throw new Error('Invariant: MsgType.LOGON packs "A"');
if (MsgType.BUSINESS_MESSAGE_REJECT !== packMsgTypeString('j')) throw new Error('Invariant: MsgType j');
if (MsgType.MARKET_DATA_SNAPSHOT !== packMsgTypeString('W')) throw new Error('Invariant: MsgType W');
if (MsgType.TRADE_CAPTURE_REPORT_ACK !== packMsgTypeString('AR')) throw new Error('Invariant: MsgType AR');
