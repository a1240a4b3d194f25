/**
 * FIX 4.4 data-dictionary validation of one parsed message (a FixParser flyweight), zero-copy.
 *
 * The dictionary (dictionary.ts) is compiled once, in the constructor, into typed arrays indexed
 * by tag (every dictionary tag is below TAG_TABLE_SIZE) and by packed MsgType (1 or 2 bytes, so
 * below 2^16). validate() then walks the fields once in wire order and allocates nothing: the
 * "seen" set is a stamp per tag, renewed by bumping a generation number.
 *
 * The result is one number (see VALIDATION_OK and validation*() below):
 *
 *     kind * 2^27 + reason * 2^20 + refTag      kind: 1 session Reject, 2 BusinessMessageReject
 *
 * Rules, with SessionRejectReason (373) from FIX 4.4 vol. 2 ("Reject <3>") or
 * BusinessRejectReason (380) from vol. 2 ("Business Message Reject <j>"):
 *   373=0   invalid tag number: a tag this dictionary does not know (outside the user range)
 *   373=3   undefined tag: an unknown tag in the user-defined range (>= 5000)
 *   373=2   tag not defined for this message type (a group field outside its group counts too)
 *   373=4   tag specified without a value
 *   373=6   incorrect data format (INT, SEQNUM, QTY, PRICE, CHAR, BOOLEAN, UTCTimestamp, dates)
 *   373=5   value out of range: not in the enumeration, or OrderQty <= 0
 *   373=13  tag appears more than once (outside repeating groups)
 *   373=14  tag specified out of required order: a header field after a body field, or
 *           BeginString/BodyLength/MsgType/CheckSum again inside the message. (BeginString,
 *           BodyLength, MsgType not being the first three fields, or CheckSum not being last,
 *           make the frame garbled: the parser refuses it and the session ignores it, as vol. 2
 *           prescribes for garbled messages.)
 *   373=15  repeating group fields out of order (the delimiter must open every entry, fields
 *           follow the group's order)
 *   373=16  incorrect NumInGroup count
 *   373=1   required tag missing (header, body, one of a required component's fields)
 *   373=11  invalid MsgType: not a FIX 4.4 message type
 *   380=3   unsupported message type: a FIX 4.4 (or user-defined "U...") type not in the dictionary
 *   380=5   conditionally required field missing (Price of a limit order, LastPx of a trade...)
 */
import { FIELDS, FIX44_MSG_TYPES, FieldType, GROUPS, HEADER, MESSAGES, type MessageDef } from './dictionary.ts';
import { packMsgTypeString } from './msg-type.ts';
import { TAG_TABLE_SIZE, type FixParser } from './parser.ts';
import { isDate, isMonthYear, parseTimeMs, parseUtcTimestampMs } from './utc-time.ts';

export const ValidationKind = {
  OK: 0,
  /** Session-level Reject (35=3) with SessionRejectReason (373) and RefTagID (371). */
  SESSION_REJECT: 1,
  /** BusinessMessageReject (35=j) with BusinessRejectReason (380). */
  BUSINESS_REJECT: 2,
} as const;

export const VALIDATION_OK = 0;
const KIND_UNIT = 2 ** 27;
const REASON_UNIT = 2 ** 20;

export function validationKind(result: number): number {
  return Math.floor(result / KIND_UNIT);
}

export function validationReason(result: number): number {
  return Math.floor(result / REASON_UNIT) % 128;
}

export function validationRefTag(result: number): number {
  return result % REASON_UNIT;
}

export function encodeValidation(kind: number, reason: number, refTag: number): number {
  return kind * KIND_UNIT + reason * REASON_UNIT + refTag;
}

/** BusinessRejectReason (380) values used here. */
export const BusinessRejectReason = {
  OTHER: 0,
  UNSUPPORTED_MESSAGE_TYPE: 3,
  CONDITIONALLY_REQUIRED_FIELD_MISSING: 5,
} as const;

const R_INVALID_TAG = 0;
const R_REQUIRED_MISSING = 1;
const R_NOT_DEFINED_FOR_TYPE = 2;
const R_UNDEFINED_TAG = 3;
const R_NO_VALUE = 4;
const R_OUT_OF_RANGE = 5;
const R_FORMAT = 6;
const R_INVALID_MSG_TYPE = 11;
const R_DUPLICATE = 13;
const R_OUT_OF_ORDER = 14;
const R_GROUP_ORDER = 15;
const R_GROUP_COUNT = 16;

const SIZE = TAG_TABLE_SIZE;
/** First user-defined tag number (vol. 1: 5000-9999 user defined, 10000+ internal use). */
const USER_TAG_MIN = 5000;
/** Enumerated values of INT fields are below this. */
const INT_ENUM_LIMIT = 1024;
/** Largest NumInGroup count considered; more is a count mismatch (the parser caps fields anyway). */
const MAX_GROUP_COUNT = 100_000;

const ENUM_NONE = 0;
const ENUM_CHAR = 1;
const ENUM_INT = 2;
const ENUM_MULTI_CHAR = 3;

const MEMBER_BODY = 1;
const MEMBER_GROUP = 2;

const CH_0 = 0x30;
const CH_9 = 0x39;

interface CompiledCondition {
  readonly ifTag: number;
  readonly values: Uint8Array;
  readonly thenTag: number;
}

interface CompiledMessage {
  readonly required: Int32Array;
  readonly oneOf: readonly Int32Array[];
  readonly conditions: readonly CompiledCondition[];
}

export class FixValidator {
  /** tag -> FieldType (0 = not in the dictionary). */
  private readonly fieldType: Uint8Array;
  private readonly enumKind: Uint8Array;
  /** tag * 128 + byte -> 1 when the byte is an allowed single-character value. */
  private readonly charEnum: Uint8Array;
  private readonly intEnumSlot: Int16Array;
  /** slot * INT_ENUM_LIMIT + value -> 1 when allowed. */
  private readonly intEnumBits: Uint8Array;
  /** tag -> 1 when the value must be > 0. */
  private readonly positive: Uint8Array;
  /** tag -> MEMBER_BODY / MEMBER_GROUP for the standard header. */
  private readonly headerMember: Uint8Array;
  private readonly headerRequired: Int32Array;
  /** packed MsgType -> index into messages, or -1. */
  private readonly messageIndex: Int16Array;
  /** packed MsgType -> 1 when FIX 4.4 defines it. */
  private readonly fix44Type: Uint8Array;
  /** message index * SIZE + tag -> MEMBER_BODY / MEMBER_GROUP. */
  private readonly member: Uint8Array;
  private readonly messages: CompiledMessage[];
  /** NumInGroup tag -> group index, or -1. */
  private readonly groupByCountTag: Int16Array;
  /** group index * SIZE + tag -> position of the tag in the group, or -1. */
  private readonly groupPos: Int16Array;
  /** tag -> generation in which it was last seen outside a group. */
  private readonly seen: Int32Array;
  private generation: number;
  private failure: number;

  constructor() {
    this.fieldType = new Uint8Array(SIZE);
    this.enumKind = new Uint8Array(SIZE);
    this.charEnum = new Uint8Array(SIZE * 128);
    this.intEnumSlot = new Int16Array(SIZE).fill(-1);
    this.intEnumBits = new Uint8Array(countIntEnums() * INT_ENUM_LIMIT);
    this.positive = new Uint8Array(SIZE);
    this.headerMember = new Uint8Array(SIZE);
    this.headerRequired = Int32Array.from(HEADER.required);
    this.messageIndex = new Int16Array(65_536).fill(-1);
    this.fix44Type = new Uint8Array(65_536);
    this.member = new Uint8Array(MESSAGES.length * SIZE);
    this.messages = [];
    this.groupByCountTag = new Int16Array(SIZE).fill(-1);
    this.groupPos = new Int16Array(GROUPS.length * SIZE).fill(-1);
    this.seen = new Int32Array(SIZE);
    this.generation = 0;
    this.failure = VALIDATION_OK;
    this.compileFields();
    this.compileGroups();
    this.compileHeader();
    this.compileMessages();
  }

  /**
   * Validates the message the parser holds (a successful parse). Returns VALIDATION_OK or an
   * encoded failure (validationKind/Reason/RefTag). Never throws; allocates nothing.
   */
  validate(m: FixParser): number {
    this.nextGeneration();
    this.failure = VALIDATION_OK;
    const type = m.msgType;
    const msg = type > 0 && type < 65_536 ? this.messageIndex[type] : -1;
    if (msg < 0) return this.unknownMsgType(type);
    this.seen[35] = this.generation; // field 0, framed by the parser
    if (!this.walkFields(m, msg)) return this.failure;
    if (!this.checkRequired(msg)) return this.failure;
    this.checkConditions(m, msg);
    return this.failure;
  }

  /** Name of the message type for logs, or '' when not in the dictionary. */
  messageName(packedMsgType: number): string {
    const i = packedMsgType > 0 && packedMsgType < 65_536 ? this.messageIndex[packedMsgType] : -1;
    return i < 0 ? '' : MESSAGES[i].name;
  }

  // ------------------------------------------------------------------------ walking the fields

  /** Checks every field after MsgType in wire order; false on the first violation. */
  private walkFields(m: FixParser, msg: number): boolean {
    const n = m.fieldCount;
    let bodySeen = false;
    let i = 1;
    while (i < n) {
      const tag = m.tagAt(i);
      const where = this.placeOf(msg, tag);
      if (where < 0) return false;
      const inHeader = where === 0;
      if (inHeader && bodySeen) return this.fail(ValidationKind.SESSION_REJECT, R_OUT_OF_ORDER, tag);
      if (!inHeader) bodySeen = true;
      if (this.seen[tag] === this.generation) return this.fail(ValidationKind.SESSION_REJECT, R_DUPLICATE, tag);
      this.seen[tag] = this.generation;
      if (!this.checkValue(m, i, tag)) return false;
      const group = this.groupByCountTag[tag];
      i = group >= 0 ? this.walkGroup(m, group, i) : i + 1;
      if (i < 0) return false;
    }
    return true;
  }

  /**
   * Where a top-level tag may stand: 0 header, 1 body; -1 (failure recorded) when unknown,
   * out of order by nature (8, 9, 10, 35 inside the message) or not defined for the message.
   */
  private placeOf(msg: number, tag: number): number {
    if (tag >= SIZE || this.fieldType[tag] === 0) {
      return this.failPlace(tag >= USER_TAG_MIN ? R_UNDEFINED_TAG : R_INVALID_TAG, tag);
    }
    if (tag === 8 || tag === 9 || tag === 10 || tag === 35) return this.failPlace(R_OUT_OF_ORDER, tag);
    if (this.headerMember[tag] !== 0) return 0;
    if (this.member[msg * SIZE + tag] !== 0) return 1;
    return this.failPlace(R_NOT_DEFINED_FOR_TYPE, tag);
  }

  /**
   * Walks one repeating group whose NumInGroup field is at countIdx. Returns the index of the
   * first field after the group, or -1 (failure recorded). Nested groups recurse (depth 2 here).
   */
  private walkGroup(m: FixParser, group: number, countIdx: number): number {
    const count = digitsValue(m.buf, m.valueStartAt(countIdx), m.valueEndAt(countIdx));
    const base = group * SIZE;
    const n = m.fieldCount;
    let entries = 0;
    let last = -1;
    let i = countIdx + 1;
    while (i < n) {
      const tag = m.tagAt(i);
      const pos = tag < SIZE ? this.groupPos[base + tag] : -1;
      if (pos < 0) break;
      if (pos === 0) entries++;
      else if (last < 0 || pos <= last) return this.failPlace(R_GROUP_ORDER, tag);
      last = pos;
      if (!this.checkValue(m, i, tag)) return -1;
      const nested = this.groupByCountTag[tag];
      i = nested >= 0 ? this.walkGroup(m, nested, i) : i + 1;
      if (i < 0) return -1;
    }
    if (entries !== count) return this.failPlace(R_GROUP_COUNT, m.tagAt(countIdx));
    return i;
  }

  private checkRequired(msg: number): boolean {
    const gen = this.generation;
    const header = this.headerRequired;
    for (let k = 0; k < header.length; k++) {
      if (this.seen[header[k]] !== gen) return this.fail(ValidationKind.SESSION_REJECT, R_REQUIRED_MISSING, header[k]);
    }
    const def = this.messages[msg];
    const required = def.required;
    for (let k = 0; k < required.length; k++) {
      if (this.seen[required[k]] !== gen) return this.fail(ValidationKind.SESSION_REJECT, R_REQUIRED_MISSING, required[k]);
    }
    for (let g = 0; g < def.oneOf.length; g++) {
      const tags = def.oneOf[g];
      let any = false;
      for (let k = 0; k < tags.length && !any; k++) any = this.seen[tags[k]] === gen;
      if (!any) return this.fail(ValidationKind.SESSION_REJECT, R_REQUIRED_MISSING, tags[0]);
    }
    return true;
  }

  private checkConditions(m: FixParser, msg: number): void {
    const conditions = this.messages[msg].conditions;
    for (let k = 0; k < conditions.length; k++) {
      const c = conditions[k];
      const v = m.getChar(c.ifTag);
      if (v > 0 && v < 128 && c.values[v] === 1 && this.seen[c.thenTag] !== this.generation) {
        this.fail(ValidationKind.BUSINESS_REJECT, BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING, c.thenTag);
        return;
      }
    }
  }

  private unknownMsgType(type: number): number {
    const known = type > 0 && type < 65_536 && this.fix44Type[type] === 1;
    const userDefined = type > 0 && type % 256 === 0x55; // first byte 'U'
    if (known || userDefined) {
      this.fail(ValidationKind.BUSINESS_REJECT, BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE, 35);
    } else {
      this.fail(ValidationKind.SESSION_REJECT, R_INVALID_MSG_TYPE, 35);
    }
    return this.failure;
  }

  // ------------------------------------------------------------------------ values

  /** Empty value, data format, enumeration, positivity; false (failure recorded) on a violation. */
  private checkValue(m: FixParser, i: number, tag: number): boolean {
    const buf = m.buf;
    const s = m.valueStartAt(i);
    const e = m.valueEndAt(i);
    if (s === e) return this.fail(ValidationKind.SESSION_REJECT, R_NO_VALUE, tag);
    if (!formatOk(this.fieldType[tag], buf, s, e)) return this.fail(ValidationKind.SESSION_REJECT, R_FORMAT, tag);
    if (!this.enumOk(tag, buf, s, e)) return this.fail(ValidationKind.SESSION_REJECT, R_OUT_OF_RANGE, tag);
    if (this.positive[tag] === 1 && !isPositive(buf, s, e)) return this.fail(ValidationKind.SESSION_REJECT, R_OUT_OF_RANGE, tag);
    return true;
  }

  private enumOk(tag: number, buf: Uint8Array, s: number, e: number): boolean {
    switch (this.enumKind[tag]) {
      case ENUM_NONE:
        return true;
      case ENUM_CHAR:
        return e - s === 1 && buf[s] < 128 && this.charEnum[tag * 128 + buf[s]] === 1;
      case ENUM_INT: {
        const v = digitsValue(buf, s, e);
        return v >= 0 && v < INT_ENUM_LIMIT && this.intEnumBits[this.intEnumSlot[tag] * INT_ENUM_LIMIT + v] === 1;
      }
      default:
        return this.multiCharOk(tag, buf, s, e);
    }
  }

  /** MULTIPLEVALUESTRING of single characters separated by single spaces ("1 G"). */
  private multiCharOk(tag: number, buf: Uint8Array, s: number, e: number): boolean {
    for (let k = s; k < e; k += 2) {
      const c = buf[k];
      if (c >= 128 || this.charEnum[tag * 128 + c] !== 1) return false;
      if (k + 1 < e && buf[k + 1] !== 0x20) return false;
    }
    return buf[e - 1] !== 0x20;
  }

  // ------------------------------------------------------------------------ failures

  private fail(kind: number, reason: number, refTag: number): boolean {
    this.failure = encodeValidation(kind, reason, refTag);
    return false;
  }

  /** Records a session-level failure and returns -1 (for functions that return an index). */
  private failPlace(reason: number, refTag: number): number {
    this.fail(ValidationKind.SESSION_REJECT, reason, refTag);
    return -1;
  }

  private nextGeneration(): void {
    if (this.generation === 0x7fffffff) {
      this.seen.fill(0);
      this.generation = 0;
    }
    this.generation++;
  }

  // ------------------------------------------------------------------------ compiling the dictionary

  private compileFields(): void {
    let slot = 0;
    for (const [tag, name, type, values] of FIELDS) {
      if (!(tag > 0 && tag < SIZE)) throw new Error(`Invariant: dictionary tag ${tag} (${name}) below TAG_TABLE_SIZE`);
      if (this.fieldType[tag] !== 0) throw new Error(`Invariant: tag ${tag} defined once`);
      this.fieldType[tag] = type;
      if (values === '') continue;
      if (type === FieldType.INT) {
        this.intEnumSlot[tag] = slot;
        for (const v of values.split(' ')) this.intEnumBits[slot * INT_ENUM_LIMIT + Number(v)] = 1;
        this.enumKind[tag] = ENUM_INT;
        slot++;
        continue;
      }
      for (const v of values.split(' ')) {
        if (v.length !== 1) throw new Error(`Invariant: enumerated value of ${name} is one character`);
        this.charEnum[tag * 128 + v.charCodeAt(0)] = 1;
      }
      this.enumKind[tag] = type === FieldType.MULTIPLEVALUESTRING ? ENUM_MULTI_CHAR : ENUM_CHAR;
    }
    this.positive[38] = 1; // OrderQty: an order for nothing is out of range
  }

  private compileGroups(): void {
    GROUPS.forEach((g, index) => {
      if (this.fieldType[g.numInGroup] !== FieldType.NUMINGROUP) throw new Error(`Invariant: ${g.name} is a NUMINGROUP`);
      this.groupByCountTag[g.numInGroup] = index;
      g.fields.forEach((tag, pos) => {
        if (this.fieldType[tag] === 0) throw new Error(`Invariant: group field ${tag} is in the dictionary`);
        this.groupPos[index * SIZE + tag] = pos;
      });
    });
  }

  private compileHeader(): void {
    for (const tag of [...HEADER.required, ...HEADER.optional]) this.headerMember[tag] = MEMBER_BODY;
    for (const tag of HEADER.groups) this.headerMember[tag] = MEMBER_GROUP;
  }

  private compileMessages(): void {
    for (const t of FIX44_MSG_TYPES.split(' ')) this.fix44Type[packMsgTypeString(t)] = 1;
    MESSAGES.forEach((def, index) => {
      const packed = packMsgTypeString(def.msgType);
      if (this.fix44Type[packed] !== 1) throw new Error(`Invariant: ${def.name} has a FIX 4.4 MsgType`);
      this.messageIndex[packed] = index;
      this.messages.push(compileMessage(def));
      this.compileMembers(def, index * SIZE);
    });
  }

  private compileMembers(def: MessageDef, base: number): void {
    for (const tag of [...def.required, ...def.optional]) {
      if (this.fieldType[tag] === 0) throw new Error(`Invariant: ${def.name} field ${tag} is in the dictionary`);
      if (this.headerMember[tag] !== 0) throw new Error(`Invariant: ${def.name} field ${tag} is not a header field`);
      this.member[base + tag] = MEMBER_BODY;
    }
    for (const tag of def.groups) this.member[base + tag] = MEMBER_GROUP;
  }
}

function compileMessage(def: MessageDef): CompiledMessage {
  const conditions = def.conditions.map((c) => {
    const values = new Uint8Array(128);
    for (const v of c.ifValues.split(' ')) values[v.charCodeAt(0)] = 1;
    return { ifTag: c.ifTag, values, thenTag: c.thenTag };
  });
  return { required: Int32Array.from(def.required), oneOf: def.oneOf.map((tags) => Int32Array.from(tags)), conditions };
}

function countIntEnums(): number {
  let n = 0;
  for (const f of FIELDS) if (f[2] === FieldType.INT && f[3] !== '') n++;
  return n;
}

// ------------------------------------------------------------------------------ formats

/** True when buf[s, e) (non-empty) is a well-formed value of the FIX type. */
function formatOk(type: number, buf: Uint8Array, s: number, e: number): boolean {
  switch (type) {
    case FieldType.INT:
      return isInteger(buf, buf[s] === 0x2d ? s + 1 : s, e);
    case FieldType.SEQNUM:
    case FieldType.LENGTH:
    case FieldType.NUMINGROUP:
      return isInteger(buf, s, e);
    case FieldType.DAYOFMONTH: {
      const d = digitsValue(buf, s, e);
      return d >= 1 && d <= 31;
    }
    case FieldType.QTY:
    case FieldType.PRICE:
    case FieldType.PRICEOFFSET:
    case FieldType.AMT:
    case FieldType.FLOAT:
    case FieldType.PERCENTAGE:
      return isDecimal(buf, s, e);
    case FieldType.CHAR:
      return e - s === 1;
    case FieldType.BOOLEAN:
      return e - s === 1 && (buf[s] === 0x59 || buf[s] === 0x4e);
    case FieldType.UTCTIMESTAMP:
      return parseUtcTimestampMs(buf, s, e) >= 0;
    case FieldType.UTCTIMEONLY:
      return parseTimeMs(buf, s, e) >= 0;
    case FieldType.UTCDATEONLY:
    case FieldType.LOCALMKTDATE:
      return isDate(buf, s, e);
    case FieldType.MONTHYEAR:
      return isMonthYear(buf, s, e);
    default:
      return true; // STRING, MULTIPLEVALUESTRING, CURRENCY, EXCHANGE, COUNTRY: any bytes but SOH
  }
}

/** One or more ASCII digits. */
function isInteger(buf: Uint8Array, s: number, e: number): boolean {
  if (s >= e) return false;
  for (let k = s; k < e; k++) if (buf[k] < CH_0 || buf[k] > CH_9) return false;
  return true;
}

/** FIX float: optional '-', digits with at most one '.', at least one digit; no exponent. */
function isDecimal(buf: Uint8Array, s: number, e: number): boolean {
  let k = buf[s] === 0x2d ? s + 1 : s;
  let digits = 0;
  let dots = 0;
  for (; k < e; k++) {
    const c = buf[k];
    if (c >= CH_0 && c <= CH_9) digits++;
    else if (c === 0x2e && dots === 0) dots++;
    else return false;
  }
  return digits > 0;
}

/** A well-formed decimal greater than zero. */
function isPositive(buf: Uint8Array, s: number, e: number): boolean {
  if (buf[s] === 0x2d) return false;
  for (let k = s; k < e; k++) if (buf[k] >= 0x31 && buf[k] <= CH_9) return true;
  return false;
}

/** Value of an all-digit field, capped at MAX_GROUP_COUNT + 1; -1 when not digits. */
function digitsValue(buf: Uint8Array, s: number, e: number): number {
  if (s >= e) return -1;
  let v = 0;
  for (let k = s; k < e; k++) {
    const c = buf[k];
    if (c < CH_0 || c > CH_9) return -1;
    if (v <= MAX_GROUP_COUNT) v = v * 10 + (c - CH_0);
  }
  return v > MAX_GROUP_COUNT ? MAX_GROUP_COUNT + 1 : v;
}

// Encoding limits agree with each other: checked once at module load.
if (SIZE > REASON_UNIT) throw new Error('Invariant: tags fit below the reason unit');
if (encodeValidation(ValidationKind.BUSINESS_REJECT, 127, REASON_UNIT - 1) > 0x7fffffff) throw new Error('Invariant: results fit 31 bits');
