/**
 * "3 min ago", "yesterday", "2 wk ago": how old an inbox item is, in the browser's
 * language (`Intl.RelativeTimeFormat`), and how soon that text changes.
 *
 * @module
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const formatters = new Map<string, Intl.RelativeTimeFormat>();
const dates = new Map<string, Intl.DateTimeFormat>();

function relative(locale: string): Intl.RelativeTimeFormat {
  let f = formatters.get(locale);
  if (!f) {
    try {
      f = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
    } catch {
      f = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "short" });
    }
    formatters.set(locale, f);
  }
  return f;
}

function dateFormat(locale: string): Intl.DateTimeFormat {
  let f = dates.get(locale);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric" });
    } catch {
      f = new Intl.DateTimeFormat("en", { month: "short", day: "numeric" });
    }
    dates.set(locale, f);
  }
  return f;
}

/**
 * How long ago `ts` was at `now`, in `locale`: "now" under a minute, then minutes, hours,
 * days, weeks, and the date past four weeks. A time in the future (clock skew) is "now".
 */
export function formatRelative(ts: number, now: number, locale = "en"): string {
  const age = Math.max(0, now - ts);
  const f = relative(locale);
  if (age < MINUTE) return f.format(0, "second");
  if (age < HOUR) return f.format(-Math.floor(age / MINUTE), "minute");
  if (age < DAY) return f.format(-Math.floor(age / HOUR), "hour");
  if (age < WEEK) return f.format(-Math.floor(age / DAY), "day");
  if (age < 4 * WEEK) return f.format(-Math.floor(age / WEEK), "week");
  return dateFormat(locale).format(ts);
}

/** Milliseconds until the text of {@linkcode formatRelative} for `ts` may change (≥ 1 s). */
export function nextChangeIn(ts: number, now: number): number {
  const age = Math.max(0, now - ts);
  const unit = age < HOUR ? MINUTE : age < DAY ? HOUR : DAY;
  return Math.max(1_000, unit - (age % unit));
}

/** The full date and time of `ts` (for a `title` / `dateTime`), in `locale`. */
export function formatFull(ts: number, locale = "en"): string {
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(ts);
  } catch {
    return new Date(ts).toISOString();
  }
}
