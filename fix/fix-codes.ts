/**
 * Result codes of the FIX layer, one catalogue, range -4000..-4999 (the fix stage's range).
 * Expected outcomes are returned as these codes, never thrown.
 */

/** Returned by FixParser.parse for input that is not a well-formed FIX 4.4 frame ("garbled"). */
export const FixParseError = {
  /** The frame does not start with "8=FIX.4.4<SOH>". */
  BAD_BEGIN_STRING: -4001,
  /** "9=" missing, not digits, or not followed by SOH. */
  BAD_BODY_LENGTH: -4002,
  /** BodyLength larger than the cap (MAX_BODY_LENGTH): refused before buffering it. */
  BODY_TOO_LONG: -4003,
  /** The bytes at BodyLength are not "10=ddd<SOH>": BodyLength disagrees with the message. */
  BAD_TRAILER: -4004,
  /** CheckSum (10) disagrees with the sum of the bytes. */
  BAD_CHECKSUM: -4005,
  /** A tag is empty, not digits, zero, or too large. */
  BAD_TAG: -4006,
  /** A field has no '=' or no SOH terminator inside the body. */
  BAD_FIELD: -4007,
  /** The first body field is not MsgType (35), or MsgType has more than 4 characters. */
  BAD_MSG_TYPE: -4008,
  /** More fields than the parser's preallocated capacity. */
  TOO_MANY_FIELDS: -4009,
} as const;

/** Returned by FixSession.sendApp and friends. */
export const SendResult = {
  OK: 0,
  /** The session is not in ACTIVE state; nothing was sent, no sequence number consumed. */
  NOT_LOGGED_ON: -4101,
  /** The transport refused the bytes (its bounded buffer is full); no sequence number consumed. */
  BACK_PRESSURE: -4102,
  /** sendAppOrStore: not sent now, but recorded under its MsgSeqNum for a later resend. */
  STORED: -4103,
} as const;

/** Returned by FixSession state changes that the transition table refuses. */
export const SessionError = {
  ILLEGAL_TRANSITION: -4201,
} as const;
