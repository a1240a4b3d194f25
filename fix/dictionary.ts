/**
 * A compact FIX 4.4 data dictionary: data, not code per message. The validator (validator.ts)
 * compiles it once at startup into typed arrays indexed by tag.
 *
 * Scope: the standard header and trailer, the seven session messages (0,1,2,3,4,5,A) and the
 * application messages this engine speaks: D, F, G, H (order entry), 8, 9 (reports), V, W
 * (market data: top of book) and j
 * (BusinessMessageReject). Tags, types, required flags and enumerations follow the FIX 4.4
 * specification (vol. 1 "Data types", vol. 2 session messages, vol. 4 order handling), as
 * published in the FIX 4.4 repository and QuickFIX's FIX44.xml. Each message lists the fields an
 * equities order-entry counterparty plausibly sends, not the whole spec: a tag outside this list
 * is refused as "not defined for this message type" (373=2), so the list errs on the generous side.
 *
 * Decisions where the spec leaves room:
 *   - Instrument (required component in D, F, G, H, 8): this engine names instruments by Symbol,
 *     so one of Symbol (55) or SecurityID (48) is required (373=1, RefTagID 55). The spec marks
 *     Symbol "***": required when the component is.
 *   - OrderQtyData (required component in D, F, G): one of OrderQty (38), CashOrderQty (152),
 *     OrderPercent (516) is required (373=1, RefTagID 38).
 *   - Conditionally required fields (Price for limit orders, StopPx for stop orders, LastQty and
 *     LastPx on trades) are business-level: BusinessMessageReject 380=5 (vol. 2, "Business Message
 *     Reject": "Conditionally Required Field Missing").
 *   - Data fields (types LENGTH + DATA pairs: 95/96, 89/93, 90/91, 212/213, 354/355) are not
 *     defined: the parser does not frame values that may contain SOH.
 *   - SettlType (63) is a STRING without enumeration (tenors such as "M1" are legal in 4.4).
 *   - Enumerations are checked where the spec defines a closed set this engine relies on; open or
 *     counterparty-specific sets (PartySubIDType, PriceType, OrderCapacity...) are not enumerated.
 */

/** FIX 4.4 data types (vol. 1). Numbers, so the validator switches on small integers. */
export const FieldType = {
  INT: 1,
  SEQNUM: 2,
  LENGTH: 3,
  NUMINGROUP: 4,
  DAYOFMONTH: 5,
  QTY: 6,
  PRICE: 7,
  PRICEOFFSET: 8,
  AMT: 9,
  FLOAT: 10,
  PERCENTAGE: 11,
  CHAR: 12,
  BOOLEAN: 13,
  STRING: 14,
  MULTIPLEVALUESTRING: 15,
  CURRENCY: 16,
  EXCHANGE: 17,
  COUNTRY: 18,
  UTCTIMESTAMP: 19,
  UTCTIMEONLY: 20,
  UTCDATEONLY: 21,
  LOCALMKTDATE: 22,
  MONTHYEAR: 23,
} as const;
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

const T = FieldType;

/**
 * A field: [tag, name, type, enumeration]. The enumeration is the space-separated list of legal
 * values; '' means any value of the type.
 */
export type FieldDef = readonly [tag: number, name: string, type: FieldType, values: string];

export const FIELDS: readonly FieldDef[] = [
  [1, 'Account', T.STRING, ''],
  [6, 'AvgPx', T.PRICE, ''],
  [7, 'BeginSeqNo', T.SEQNUM, ''],
  [8, 'BeginString', T.STRING, ''],
  [9, 'BodyLength', T.LENGTH, ''],
  [10, 'CheckSum', T.STRING, ''],
  [11, 'ClOrdID', T.STRING, ''],
  [12, 'Commission', T.AMT, ''],
  [13, 'CommType', T.CHAR, '1 2 3 4 5 6'],
  [14, 'CumQty', T.QTY, ''],
  [15, 'Currency', T.CURRENCY, ''],
  [16, 'EndSeqNo', T.SEQNUM, ''],
  [17, 'ExecID', T.STRING, ''],
  [18, 'ExecInst', T.MULTIPLEVALUESTRING, '0 1 2 3 4 5 6 7 8 9 A B C D E F G H I J K L M N O P Q R S U V W X Y Z a b c d e'],
  [19, 'ExecRefID', T.STRING, ''],
  [21, 'HandlInst', T.CHAR, '1 2 3'],
  [22, 'SecurityIDSource', T.STRING, '1 2 3 4 5 6 7 8 9 A B C D E F G H I J'],
  [23, 'IOIID', T.STRING, ''],
  [29, 'LastCapacity', T.CHAR, '1 2 3 4'],
  [30, 'LastMkt', T.EXCHANGE, ''],
  [31, 'LastPx', T.PRICE, ''],
  [32, 'LastQty', T.QTY, ''],
  [34, 'MsgSeqNum', T.SEQNUM, ''],
  [35, 'MsgType', T.STRING, ''],
  [36, 'NewSeqNo', T.SEQNUM, ''],
  [37, 'OrderID', T.STRING, ''],
  [38, 'OrderQty', T.QTY, ''],
  [39, 'OrdStatus', T.CHAR, '0 1 2 3 4 6 7 8 9 A B C D E'],
  [40, 'OrdType', T.CHAR, '1 2 3 4 5 6 7 8 9 A B C D E F G H I J K L M P'],
  [41, 'OrigClOrdID', T.STRING, ''],
  [43, 'PossDupFlag', T.BOOLEAN, ''],
  [44, 'Price', T.PRICE, ''],
  [45, 'RefSeqNum', T.SEQNUM, ''],
  [48, 'SecurityID', T.STRING, ''],
  [49, 'SenderCompID', T.STRING, ''],
  [50, 'SenderSubID', T.STRING, ''],
  [52, 'SendingTime', T.UTCTIMESTAMP, ''],
  [54, 'Side', T.CHAR, '1 2 3 4 5 6 7 8 9 A B C D E F G'],
  [55, 'Symbol', T.STRING, ''],
  [56, 'TargetCompID', T.STRING, ''],
  [57, 'TargetSubID', T.STRING, ''],
  [58, 'Text', T.STRING, ''],
  [59, 'TimeInForce', T.CHAR, '0 1 2 3 4 5 6 7'],
  [60, 'TransactTime', T.UTCTIMESTAMP, ''],
  [63, 'SettlType', T.STRING, ''],
  [64, 'SettlDate', T.LOCALMKTDATE, ''],
  [65, 'SymbolSfx', T.STRING, ''],
  [66, 'ListID', T.STRING, ''],
  [75, 'TradeDate', T.LOCALMKTDATE, ''],
  [77, 'PositionEffect', T.CHAR, 'C F O R'],
  [97, 'PossResend', T.BOOLEAN, ''],
  [98, 'EncryptMethod', T.INT, '0 1 2 3 4 5 6'],
  [99, 'StopPx', T.PRICE, ''],
  [100, 'ExDestination', T.EXCHANGE, ''],
  [102, 'CxlRejReason', T.INT, '0 1 2 3 4 5 6 99'],
  [103, 'OrdRejReason', T.INT, '0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 99'],
  [107, 'SecurityDesc', T.STRING, ''],
  [108, 'HeartBtInt', T.INT, ''],
  [110, 'MinQty', T.QTY, ''],
  [111, 'MaxFloor', T.QTY, ''],
  [112, 'TestReqID', T.STRING, ''],
  [114, 'LocateReqd', T.BOOLEAN, ''],
  [115, 'OnBehalfOfCompID', T.STRING, ''],
  [116, 'OnBehalfOfSubID', T.STRING, ''],
  [117, 'QuoteID', T.STRING, ''],
  [118, 'NetMoney', T.AMT, ''],
  [120, 'SettlCurrency', T.CURRENCY, ''],
  [121, 'ForexReq', T.BOOLEAN, ''],
  [122, 'OrigSendingTime', T.UTCTIMESTAMP, ''],
  [123, 'GapFillFlag', T.BOOLEAN, ''],
  [126, 'ExpireTime', T.UTCTIMESTAMP, ''],
  [128, 'DeliverToCompID', T.STRING, ''],
  [129, 'DeliverToSubID', T.STRING, ''],
  [140, 'PrevClosePx', T.PRICE, ''],
  [141, 'ResetSeqNumFlag', T.BOOLEAN, ''],
  [142, 'SenderLocationID', T.STRING, ''],
  [143, 'TargetLocationID', T.STRING, ''],
  [144, 'OnBehalfOfLocationID', T.STRING, ''],
  [145, 'DeliverToLocationID', T.STRING, ''],
  [150, 'ExecType', T.CHAR, '0 3 4 5 6 7 8 9 A B C D E F G H I'],
  [151, 'LeavesQty', T.QTY, ''],
  [152, 'CashOrderQty', T.QTY, ''],
  [146, 'NoRelatedSym', T.NUMINGROUP, ''],
  [167, 'SecurityType', T.STRING, ''],
  [168, 'EffectiveTime', T.UTCTIMESTAMP, ''],
  [198, 'SecondaryOrderID', T.STRING, ''],
  [200, 'MaturityMonthYear', T.MONTHYEAR, ''],
  [207, 'SecurityExchange', T.EXCHANGE, ''],
  [210, 'MaxShow', T.QTY, ''],
  [229, 'TradeOriginationDate', T.LOCALMKTDATE, ''],
  // Market data (V, W): the venues' top of book (workers/fix/market-data.ts, sim/market-data.ts).
  [262, 'MDReqID', T.STRING, ''],
  [263, 'SubscriptionRequestType', T.CHAR, '0 1 2'],
  [264, 'MarketDepth', T.INT, ''],
  [265, 'MDUpdateType', T.INT, '0 1'],
  [267, 'NoMDEntryTypes', T.NUMINGROUP, ''],
  [268, 'NoMDEntries', T.NUMINGROUP, ''],
  [269, 'MDEntryType', T.CHAR, '0 1 2 3 4 5 6 7 8 9 A B C'],
  [270, 'MDEntryPx', T.PRICE, ''],
  [271, 'MDEntrySize', T.QTY, ''],
  [272, 'MDEntryDate', T.UTCDATEONLY, ''],
  [273, 'MDEntryTime', T.UTCTIMEONLY, ''],
  [336, 'TradingSessionID', T.STRING, ''],
  [347, 'MessageEncoding', T.STRING, ''],
  [369, 'LastMsgSeqNumProcessed', T.SEQNUM, ''],
  [371, 'RefTagID', T.INT, ''],
  [372, 'RefMsgType', T.STRING, ''],
  [373, 'SessionRejectReason', T.INT, '0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 99'],
  [376, 'ComplianceID', T.STRING, ''],
  [377, 'SolicitedFlag', T.BOOLEAN, ''],
  [378, 'ExecRestatementReason', T.INT, '0 1 2 3 4 5 6 7 8 9 10 99'],
  [379, 'BusinessRejectRefID', T.STRING, ''],
  [380, 'BusinessRejectReason', T.INT, '0 1 2 3 4 5 6 7'],
  [381, 'GrossTradeAmt', T.AMT, ''],
  [383, 'MaxMessageSize', T.LENGTH, ''],
  [384, 'NoMsgTypes', T.NUMINGROUP, ''],
  [385, 'MsgDirection', T.CHAR, 'R S'],
  [423, 'PriceType', T.INT, ''],
  [424, 'DayOrderQty', T.QTY, ''],
  [425, 'DayCumQty', T.QTY, ''],
  [426, 'DayAvgPx', T.PRICE, ''],
  [432, 'ExpireDate', T.LOCALMKTDATE, ''],
  [434, 'CxlRejResponseTo', T.CHAR, '1 2'],
  [447, 'PartyIDSource', T.CHAR, '1 2 3 4 5 6 7 8 9 A B C D E F G H I'],
  [448, 'PartyID', T.STRING, ''],
  [452, 'PartyRole', T.INT, '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39'],
  [453, 'NoPartyIDs', T.NUMINGROUP, ''],
  [460, 'Product', T.INT, '1 2 3 4 5 6 7 8 9 10 11 12 13'],
  [461, 'CFICode', T.STRING, ''],
  [464, 'TestMessageIndicator', T.BOOLEAN, ''],
  [468, 'RoundingDirection', T.CHAR, '0 1 2'],
  [469, 'RoundingModulus', T.FLOAT, ''],
  [479, 'CommCurrency', T.CURRENCY, ''],
  [516, 'OrderPercent', T.PERCENTAGE, ''],
  [523, 'PartySubID', T.STRING, ''],
  [526, 'SecondaryClOrdID', T.STRING, ''],
  [528, 'OrderCapacity', T.CHAR, ''],
  [529, 'OrderRestrictions', T.MULTIPLEVALUESTRING, ''],
  [541, 'MaturityDate', T.LOCALMKTDATE, ''],
  [553, 'Username', T.STRING, ''],
  [554, 'Password', T.STRING, ''],
  [581, 'AccountType', T.INT, ''],
  [582, 'CustOrderCapacity', T.INT, ''],
  [583, 'ClOrdLinkID', T.STRING, ''],
  [584, 'MassStatusReqID', T.STRING, ''],
  [586, 'OrigOrdModTime', T.UTCTIMESTAMP, ''],
  [627, 'NoHops', T.NUMINGROUP, ''],
  [628, 'HopCompID', T.STRING, ''],
  [629, 'HopSendingTime', T.UTCTIMESTAMP, ''],
  [630, 'HopRefID', T.SEQNUM, ''],
  [636, 'WorkingIndicator', T.BOOLEAN, ''],
  [660, 'AcctIDSource', T.INT, ''],
  [789, 'NextExpectedMsgSeqNum', T.SEQNUM, ''],
  [790, 'OrdStatusReqID', T.STRING, ''],
  [802, 'NoPartySubIDs', T.NUMINGROUP, ''],
  [803, 'PartySubIDType', T.INT, ''],
  [851, 'LastLiquidityInd', T.INT, ''],
  [854, 'QtyType', T.INT, ''],
  [911, 'TotNumReports', T.INT, ''],
  [912, 'LastRptRequested', T.BOOLEAN, ''],
];

/**
 * A repeating group: its NumInGroup tag and its fields in the required order. The first field is
 * the delimiter that opens every entry (vol. 1, "Repeating Groups"). A field that is itself a
 * NumInGroup opens a nested group, listed in GROUPS too.
 */
export interface GroupDef {
  readonly numInGroup: number;
  readonly name: string;
  readonly fields: readonly number[];
}

export const GROUPS: readonly GroupDef[] = [
  // Parties component (D, F, G, H, 8): PartyID delimits, PtysSubGrp nested.
  { numInGroup: 453, name: 'NoPartyIDs', fields: [448, 447, 452, 802] },
  { numInGroup: 802, name: 'NoPartySubIDs', fields: [523, 803] },
  // Logon (A): the message types the counterparty supports.
  { numInGroup: 384, name: 'NoMsgTypes', fields: [372, 385] },
  // Market data (V, W): entry types requested, instruments, and the snapshot's entries.
  { numInGroup: 267, name: 'NoMDEntryTypes', fields: [269] },
  { numInGroup: 146, name: 'NoRelatedSym', fields: [55] },
  { numInGroup: 268, name: 'NoMDEntries', fields: [269, 270, 271, 272, 273] },
  // Standard header: the hops of a message that went through third parties.
  { numInGroup: 627, name: 'NoHops', fields: [628, 629, 630] },
];

/** Header fields (BeginString, BodyLength and MsgType come first and are framed by the parser). */
export const HEADER = {
  required: [35, 49, 56, 34, 52],
  optional: [8, 9, 115, 128, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 122, 347, 369],
  groups: [627],
} as const;

/** CheckSum (10) is the only trailer field supported (no signature: 89/93 are data fields). */
export const TRAILER = [10] as const;

/**
 * A field conditionally required by the value of another: when `ifTag` has one of `ifValues`,
 * `thenTag` must be present. Missing -> BusinessMessageReject 380=5.
 */
export interface ConditionDef {
  readonly ifTag: number;
  readonly ifValues: string;
  readonly thenTag: number;
}

export interface MessageDef {
  readonly msgType: string;
  readonly name: string;
  readonly required: readonly number[];
  readonly optional: readonly number[];
  /** NumInGroup tags of the groups the body may carry. */
  readonly groups: readonly number[];
  /** Each inner list: at least one of these tags is required (373=1, RefTagID the first). */
  readonly oneOf: readonly (readonly number[])[];
  readonly conditions: readonly ConditionDef[];
}

// Component blocks, as field lists shared by several messages.
const INSTRUMENT = [55, 65, 48, 22, 460, 461, 167, 200, 541, 207, 107];
const ORDER_QTY_DATA = [38, 152, 516, 468, 469];
const COMMISSION_DATA = [12, 13, 479];
const INSTRUMENT_ONE_OF = [55, 48];
const QTY_ONE_OF = [38, 152, 516];
/** OrdType 2 Limit, 4 Stop limit, 7 Limit or better, 8 Limit with or without, B Limit on close: Price (vol. 4). */
const LIMIT_NEEDS_PRICE: ConditionDef = { ifTag: 40, ifValues: '2 4 7 8 B', thenTag: 44 };
/** OrdType 3 Stop, 4 Stop limit: StopPx. */
const STOP_NEEDS_STOP_PX: ConditionDef = { ifTag: 40, ifValues: '3 4', thenTag: 99 };

export const MESSAGES: readonly MessageDef[] = [
  { msgType: '0', name: 'Heartbeat', required: [], optional: [112], groups: [], oneOf: [], conditions: [] },
  { msgType: '1', name: 'TestRequest', required: [112], optional: [], groups: [], oneOf: [], conditions: [] },
  { msgType: '2', name: 'ResendRequest', required: [7, 16], optional: [], groups: [], oneOf: [], conditions: [] },
  { msgType: '3', name: 'Reject', required: [45], optional: [371, 372, 373, 58], groups: [], oneOf: [], conditions: [] },
  { msgType: '4', name: 'SequenceReset', required: [36], optional: [123], groups: [], oneOf: [], conditions: [] },
  { msgType: '5', name: 'Logout', required: [], optional: [58], groups: [], oneOf: [], conditions: [] },
  {
    msgType: 'A',
    name: 'Logon',
    required: [98, 108],
    optional: [141, 789, 383, 464, 553, 554],
    groups: [384],
    oneOf: [],
    conditions: [],
  },
  {
    msgType: 'D',
    name: 'NewOrderSingle',
    required: [11, 54, 60, 40],
    optional: [
      526, 583, 229, 75, 1, 660, 581, 63, 64, 21, 18, 110, 111, 100, ...INSTRUMENT, 140, 114, 854,
      ...ORDER_QTY_DATA, 423, 44, 99, 15, 376, 377, 23, 117, 59, 168, 432, 126, ...COMMISSION_DATA,
      528, 529, 582, 121, 120, 58, 77, 210,
    ],
    groups: [453],
    oneOf: [INSTRUMENT_ONE_OF, QTY_ONE_OF],
    conditions: [LIMIT_NEEDS_PRICE, STOP_NEEDS_STOP_PX],
  },
  {
    msgType: 'F',
    name: 'OrderCancelRequest',
    required: [41, 11, 54, 60],
    optional: [37, 526, 583, 66, 586, 1, 660, 581, ...INSTRUMENT, ...ORDER_QTY_DATA, 376, 58],
    groups: [453],
    oneOf: [INSTRUMENT_ONE_OF, QTY_ONE_OF],
    conditions: [],
  },
  {
    msgType: 'G',
    name: 'OrderCancelReplaceRequest',
    required: [41, 11, 54, 60, 40],
    optional: [
      37, 229, 75, 526, 583, 66, 586, 1, 660, 581, 63, 64, 21, 18, 110, 111, 100, ...INSTRUMENT, 854,
      ...ORDER_QTY_DATA, 423, 44, 99, 376, 377, 15, 59, 168, 432, 126, ...COMMISSION_DATA, 528, 529,
      582, 121, 120, 58, 77, 210, 114,
    ],
    groups: [453],
    oneOf: [INSTRUMENT_ONE_OF, QTY_ONE_OF],
    conditions: [LIMIT_NEEDS_PRICE, STOP_NEEDS_STOP_PX],
  },
  {
    msgType: 'H',
    name: 'OrderStatusRequest',
    required: [11, 54],
    optional: [37, 526, 583, 790, 1, 660, ...INSTRUMENT],
    groups: [453],
    oneOf: [INSTRUMENT_ONE_OF],
    conditions: [],
  },
  {
    msgType: '8',
    name: 'ExecutionReport',
    required: [37, 17, 150, 39, 54, 151, 14, 6],
    optional: [
      198, 526, 11, 41, 583, 790, 584, 911, 912, 66, 19, 636, 103, 378, 1, 660, 581, 63, 64,
      ...INSTRUMENT, 854, ...ORDER_QTY_DATA, 40, 423, 44, 99, 15, 376, 377, 59, 168, 432, 126, 18,
      528, 529, 582, 32, 31, 30, 336, 29, 424, 425, 426, 75, 60, ...COMMISSION_DATA, 381, 118, 120,
      21, 110, 111, 77, 210, 58, 851,
    ],
    groups: [453],
    oneOf: [INSTRUMENT_ONE_OF],
    // ExecType F (Trade), G (Trade correct): LastQty and LastPx; G and H (Trade cancel): ExecRefID,
    // the execution corrected or busted (vol. 4, Execution Report).
    conditions: [
      { ifTag: 150, ifValues: 'F G', thenTag: 32 },
      { ifTag: 150, ifValues: 'F G', thenTag: 31 },
      { ifTag: 150, ifValues: 'G H', thenTag: 19 },
    ],
  },
  {
    msgType: '9',
    name: 'OrderCancelReject',
    required: [37, 11, 41, 39, 434],
    optional: [198, 526, 583, 636, 586, 66, 1, 660, 581, 229, 75, 60, 102, 58],
    groups: [],
    oneOf: [],
    conditions: [],
  },
  {
    msgType: 'V',
    name: 'MarketDataRequest',
    required: [262, 263, 264],
    optional: [265],
    groups: [267, 146],
    oneOf: [],
    conditions: [],
  },
  {
    msgType: 'W',
    name: 'MarketDataSnapshotFullRefresh',
    required: [],
    optional: [262, ...INSTRUMENT],
    groups: [268],
    oneOf: [INSTRUMENT_ONE_OF],
    conditions: [],
  },
  {
    msgType: 'j',
    name: 'BusinessMessageReject',
    required: [372, 380],
    optional: [45, 379, 58],
    groups: [],
    oneOf: [],
    conditions: [],
  },
];

/**
 * Every MsgType FIX 4.4 defines (vol. 1, MsgType field). A well-formed type outside this list is
 * invalid (373=11); one inside it that MESSAGES lacks is unsupported (BusinessMessageReject 380=3).
 * MsgTypes beginning with "U" are user-defined (vol. 1): unsupported, not invalid.
 */
export const FIX44_MSG_TYPES =
  '0 1 2 3 4 5 6 7 8 9 A B C D E F G H J K L M N P Q R S T V W X Y Z ' +
  'a b c d e f g h i j k l m n o p q r s t u v w x y z ' +
  'AA AB AC AD AE AF AG AH AI AJ AK AL AM AN AO AP AQ AR AS AT AU AV AW AX AY AZ ' +
  'BA BB BC BD BE BF BG BH';
