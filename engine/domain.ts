/**
 * Order attributes as small integers. Values follow FIX 4.4 where FIX defines them (Side <54>,
 * OrdType <40>, TimeInForce <59>), so the FIX codec and the ring layouts need no mapping tables.
 */

/** Side <54>. */
export const Side = {
  BUY: 1,
  SELL: 2,
} as const;
export type Side = (typeof Side)[keyof typeof Side];

/** OrdType <40>. */
export const OrdType = {
  MARKET: 1,
  LIMIT: 2,
} as const;
export type OrdType = (typeof OrdType)[keyof typeof OrdType];

/** TimeInForce <59>. */
export const Tif = {
  DAY: 0,
  GTC: 1,
  IOC: 3,
  FOK: 4,
} as const;
export type Tif = (typeof Tif)[keyof typeof Tif];

/** Where a command entered the engine; reports go back the same way. */
export const Source = {
  /** WebSocket or REST, through the ingest worker. */
  INGEST: 1,
  /** A FIX client session on the engine's acceptor, through the fix worker. */
  FIX: 2,
  /** The engine itself (admin, kill switch, expiry). */
  ENGINE: 3,
} as const;
export type Source = (typeof Source)[keyof typeof Source];

export function isSide(v: number): boolean {
  return v === Side.BUY || v === Side.SELL;
}
export function isOrdType(v: number): boolean {
  return v === OrdType.MARKET || v === OrdType.LIMIT;
}
export function isTif(v: number): boolean {
  return v === Tif.DAY || v === Tif.GTC || v === Tif.IOC || v === Tif.FOK;
}

/** Longest client order id, in bytes (ASCII). FIX ClOrdID <11> values longer than this are refused. */
export const CL_ORD_ID_CAPACITY = 40;

/**
 * Value -> name tables, built once from the objects above (the JSON edges, the route audit and
 * the journal decoders name these per report; no Object.entries per call). A value inside the
 * range that has no name (Side 0, Tif 2) maps to ''; a value beyond it to undefined, where each
 * caller puts its own fallback.
 */
function nameTable(values: Readonly<Record<string, number>>): readonly string[] {
  const table: string[] = [];
  for (const [name, value] of Object.entries(values)) table[value] = name;
  for (let v = 0; v < table.length; v++) if (table[v] === undefined) table[v] = '';
  return table;
}
const SIDE_NAMES = nameTable(Side);
const ORD_TYPE_NAMES = nameTable(OrdType);
const TIF_NAMES = nameTable(Tif);
const SOURCE_NAMES = nameTable(Source);

export function sideName(v: number): string | undefined { return SIDE_NAMES[v]; }
export function ordTypeName(v: number): string | undefined { return ORD_TYPE_NAMES[v]; }
export function tifName(v: number): string | undefined { return TIF_NAMES[v]; }
export function sourceName(v: number): string | undefined { return SOURCE_NAMES[v]; }
