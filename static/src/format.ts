// Money in minor units, event times in the venue's time zone, and the hold countdown.
//
// An event happens at the venue: a Berlin concert at 19:30 is "19:30 CET" for every buyer,
// wherever their browser is. So event times are formatted in the venue's IANA zone, with the
// zone's abbreviation (or offset) and the year; only the buyer's own actions (when an order
// was placed) are shown in the buyer's zone. The organiser form works the other way round:
// it takes the venue's wall-clock time and finds the instant it names (DST included).

export function money(minor: number, currency: string, locale?: string): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(minor / 100);
}

/** The zone if the browser knows it, else UTC (a stored zone the browser lacks must not crash a page). */
export function knownZone(timeZone: string | undefined): string {
  if (!timeZone) return "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return timeZone;
  } catch {
    return "UTC";
  }
}

/** "Saturday, 1 May 2027 at 19:30 CEST" (en-GB): the event page and order confirmation. */
export function eventTime(iso: string, timeZone: string | undefined, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZone: knownZone(timeZone), timeZoneName: "short",
  }).format(new Date(iso));
}

/** "Sat, 1 May 2027, 19:30 CEST" (en-GB): event cards. */
export function eventDate(iso: string, timeZone: string | undefined, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZone: knownZone(timeZone), timeZoneName: "short",
  }).format(new Date(iso));
}

/** When the buyer did something (placed an order): their own clock, with the year. */
export function localDate(iso: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  }).format(new Date(iso));
}

/** The browser's zone, a sensible first guess for a new venue. */
export function browserZone(): string {
  return knownZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
}

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

function wallParts(ms: number, timeZone: string): number[] {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return [get("year"), get("month"), get("day"), get("hour"), get("minute")];
}

/** The wall-clock time ("2027-05-01T19:30") at an instant in a zone: a datetime-local value. */
export function wallClock(iso: string, timeZone: string): string {
  const [y, mo, d, h, mi] = wallParts(new Date(iso).getTime(), knownZone(timeZone));
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(y).padStart(4, "0")}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}`;
}

/**
 * The instant (ISO, UTC) at which the clocks of ``timeZone`` read ``local`` ("2027-05-01T19:30").
 * null when they never do (the hour skipped when summer time starts); when they read it twice
 * (the hour repeated when it ends), the first. Zone offsets never change twice within a day,
 * so the offsets a day either side are the only candidates.
 */
export function zonedInstant(local: string, timeZone: string): string | null {
  const m = WALL.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  const offsetAt = (ms: number) => {
    const [py, pmo, pd, ph, pmi] = wallParts(ms, timeZone);
    return Date.UTC(py, pmo - 1, pd, ph, pmi) - Math.floor(ms / 60000) * 60000;
  };
  const day = 86_400_000;
  const candidates = [...new Set([offsetAt(asUtc - day), offsetAt(asUtc), offsetAt(asUtc + day)])]
    .map((offset) => asUtc - offset)
    .filter((ms) => wallClock(new Date(ms).toISOString(), timeZone) === local)
    .sort((a, b) => a - b);
  return candidates.length ? new Date(candidates[0]).toISOString().replace(".000Z", "Z") : null;
}

/** Every zone the browser knows, for the venue form. */
export function allZones(): string[] {
  const withList = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const zones = withList.supportedValuesOf ? withList.supportedValuesOf("timeZone") : [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}

/** "9:05" for 545 seconds; "0:00" when time is up. */
export function countdown(secondsLeft: number): string {
  const s = Math.max(0, Math.floor(secondsLeft));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "19:42 CEST" (en-GB): the time of day in the venue's zone, e.g. when a ticket was scanned. */
export function timeOfDay(iso: string, timeZone: string | undefined, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: knownZone(timeZone), timeZoneName: "short",
  }).format(new Date(iso));
}
