/**
 * A FIX session's daily schedule (the "session time" of FIX engines): on which days a session
 * period starts, at what local time it starts and ends, and in which time zone. Outside a period
 * an acceptor refuses logons and an initiator does not connect; a session still logged on when its
 * period ends is logged out; and the sequence numbers of a daily session start again at 1 when a
 * new period begins (the FIX convention: one sequence per trading day).
 *
 *   days  MON..SUN on which a period STARTS (a period that crosses midnight belongs to its start day)
 *   start "HH:MM" or "HH:MM:SS", local time in `timeZone`
 *   end   same; end <= start means the period ends the next day (end == start: 24 hours)
 *   timeZone "UTC", a fixed offset "+05:30" / "-04:00", or an IANA zone ("America/New_York")
 *            resolved through Intl (daylight saving time included)
 *
 * A period is named by its start instant (epoch ms); the session's store keeps the period its
 * sequence numbers belong to (MessageStore.periodStartMs), so a restart inside the same period
 * resumes and a restart in a later period starts over.
 *
 * Computing a period allocates (Intl parts): the result is cached for the period and, outside
 * periods, re-computed at most once per RECHECK_MS. Never on a message path.
 */

export const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface SessionScheduleConfig {
  /** Local start time, "HH:MM" or "HH:MM:SS". */
  start: string;
  /** Local end time; at or before start: the next day. */
  end: string;
  /** "UTC", "+HH:MM" / "-HH:MM", or an IANA time zone name. Default "UTC". */
  timeZone?: string;
  /** Days on which a period starts. Default every day. */
  days?: Weekday[];
}

const DAY_MS = 86_400_000;
const RECHECK_MS = 1000;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const OFFSET_RE = /^([+-])(0\d|1[0-4]):([0-5]\d)$/;

/** Validates a schedule description; throws Error naming the bad field. Allocates; start-up only. */
export function validateSchedule(raw: unknown): SessionScheduleConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('must be an object {start, end, timeZone?, days?}');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) if (key !== 'start' && key !== 'end' && key !== 'timeZone' && key !== 'days') throw new Error(`${key} is not a known setting`);
  timeOfDay('start', r.start);
  timeOfDay('end', r.end);
  const out: SessionScheduleConfig = { start: r.start as string, end: r.end as string };
  if (r.timeZone !== undefined) {
    if (typeof r.timeZone !== 'string' || zoneOffsetFn(r.timeZone) === null) throw new Error(`timeZone must be UTC, +HH:MM, -HH:MM or an IANA zone known to Intl, got ${JSON.stringify(r.timeZone)}`);
    out.timeZone = r.timeZone;
  }
  if (r.days !== undefined) {
    if (!Array.isArray(r.days) || r.days.length === 0 || r.days.length > 7) throw new Error('days must be a non-empty array of MON..SUN');
    const seen = new Set<string>();
    for (const d of r.days) {
      if (typeof d !== 'string' || !(WEEKDAYS as readonly string[]).includes(d)) throw new Error(`days: ${JSON.stringify(d)} is not one of ${WEEKDAYS.join(', ')}`);
      if (seen.has(d)) throw new Error(`days: ${d} twice`);
      seen.add(d);
    }
    out.days = r.days as Weekday[];
  }
  return out;
}

/** Seconds after local midnight of "HH:MM[:SS]"; throws on a bad value. */
function timeOfDay(field: string, v: unknown): number {
  const m = typeof v === 'string' ? TIME_RE.exec(v) : null;
  if (m === null) throw new Error(`${field} must be "HH:MM" or "HH:MM:SS" (24-hour), got ${JSON.stringify(v)}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + (m[3] === undefined ? 0 : Number(m[3]));
}

/** (instant) -> offset of local time from UTC in ms, for a zone; null when the zone is unknown. */
function zoneOffsetFn(zone: string): ((ms: number) => number) | null {
  if (zone === 'UTC' || zone === 'Z') return () => 0;
  const m = OFFSET_RE.exec(zone);
  if (m !== null) {
    const offset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) * 1000;
    return () => offset;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    return null;
  }
  return (ms: number) => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    return local - (ms - (ms % 1000 + 1000) % 1000);
  };
}

export class SessionSchedule {
  readonly config: SessionScheduleConfig;
  private readonly startS: number;
  private readonly endS: number;
  /** Bit d set: a period may start on weekday d (0 = Sunday). */
  private readonly dayMask: number;
  private readonly offsetOf: (ms: number) => number;
  // Cache: the period [cachedStart, cachedEnd), or "outside, until recheckAt".
  private cachedStart: number;
  private cachedEnd: number;
  private recheckAt: number;

  constructor(config: SessionScheduleConfig) {
    const c = validateSchedule(config);
    this.config = c;
    this.startS = timeOfDay('start', c.start);
    this.endS = timeOfDay('end', c.end);
    let mask = 0;
    for (const d of c.days ?? WEEKDAYS) mask |= 1 << WEEKDAYS.indexOf(d);
    this.dayMask = mask;
    this.offsetOf = zoneOffsetFn(c.timeZone ?? 'UTC')!;
    this.cachedStart = -1;
    this.cachedEnd = -1;
    this.recheckAt = -1;
  }

  /** Start (epoch ms) of the period that contains nowMs, or -1 when nowMs is outside every period. */
  periodAt(nowMs: number): number {
    if (this.cachedStart >= 0 && nowMs >= this.cachedStart && nowMs < this.cachedEnd) return this.cachedStart;
    if (this.recheckAt >= 0 && nowMs < this.recheckAt && nowMs >= this.recheckAt - RECHECK_MS) return -1;
    const found = this.compute(nowMs);
    if (found < 0) {
      this.recheckAt = nowMs + RECHECK_MS;
      return -1;
    }
    this.recheckAt = -1;
    return found;
  }

  /** True when nowMs is inside a period. */
  contains(nowMs: number): boolean {
    return this.periodAt(nowMs) >= 0;
  }

  /** Local calendar day (days since the epoch) of an instant. */
  private localDay(ms: number): number {
    return Math.floor((ms + this.offsetOf(ms)) / DAY_MS);
  }

  /** The instant at which local time on `day` (days since the epoch) reads `seconds` after midnight. */
  private instantOf(day: number, seconds: number): number {
    const local = day * DAY_MS + seconds * 1000;
    // Two steps settle the offset except inside a daylight-saving jump, where it lands next to it.
    let guess = local - this.offsetOf(local);
    guess = local - this.offsetOf(guess);
    return guess;
  }

  private compute(nowMs: number): number {
    const today = this.localDay(nowMs);
    const spansMidnight = this.endS <= this.startS;
    // A period containing now started today or (crossing midnight) yesterday.
    for (let back = 0; back <= 1; back++) {
      const day = today - back;
      const weekday = ((day % 7) + 7 + 4) % 7; // 1970-01-01 was a Thursday
      if ((this.dayMask & (1 << weekday)) === 0) continue;
      const start = this.instantOf(day, this.startS);
      const end = this.instantOf(spansMidnight ? day + 1 : day, this.endS);
      if (nowMs >= start && nowMs < end) {
        this.cachedStart = start;
        this.cachedEnd = end;
        return start;
      }
    }
    return -1;
  }
}
