/**
 * The trading session on the wall clock of the engine's Clock (injected, so tests move time):
 * regular hours are [open, close) each day in a fixed UTC offset; DAY orders expire at close.
 * Every calendar day is a session day (weekends and holidays are not modelled) and the offset is
 * fixed (no daylight-saving switch): an operator sets utcOffsetMinutes for the season.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface SessionConfig {
  /** Minutes east of UTC of the exchange's local time (New York in winter: -300). */
  utcOffsetMinutes: number;
  /** Minutes after local midnight. */
  openMinute: number;
  closeMinute: number;
  /** Whether DAY orders are expired at close. */
  expireDayOrders: boolean;
}

export class SessionCalendar {
  private readonly offsetMs: number;
  private readonly openMs: number;
  private readonly closeMs: number;
  readonly expireDayOrders: boolean;

  constructor(config: SessionConfig) {
    if (!(config.openMinute >= 0 && config.openMinute < config.closeMinute && config.closeMinute <= 1440)) {
      throw new Error('Condition failed: 0 <= open < close <= 24:00');
    }
    this.offsetMs = config.utcOffsetMinutes * MINUTE_MS;
    this.openMs = config.openMinute * MINUTE_MS;
    this.closeMs = config.closeMinute * MINUTE_MS;
    this.expireDayOrders = config.expireDayOrders;
  }

  /** Milliseconds since local midnight. */
  private timeOfDayMs(epochMs: number): number {
    const local = epochMs + this.offsetMs;
    return local - Math.floor(local / DAY_MS) * DAY_MS;
  }

  isRegularHours(epochMs: number): boolean {
    const t = this.timeOfDayMs(epochMs);
    return t >= this.openMs && t < this.closeMs;
  }

  /** The first session close strictly after epochMs (epoch ms). */
  nextCloseAfter(epochMs: number): number {
    const t = this.timeOfDayMs(epochMs);
    const midnight = epochMs - t;
    return t < this.closeMs ? midnight + this.closeMs : midnight + DAY_MS + this.closeMs;
  }
}

/** "HH:MM" to minutes after midnight, or -1. */
export function parseTimeOfDay(text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (m === null) return text === '24:00' ? 1440 : -1;
  return Number(m[1]) * 60 + Number(m[2]);
}
