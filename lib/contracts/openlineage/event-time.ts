// Producers send eventTime with any fractional precision, sometimes without a zone (Python's
// datetime.isoformat() on a naive datetime); Marquez reads those as UTC, and so do we.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/**
 * Parses an ISO-8601 date-time of any precision, with or without zone (zone-less means UTC), and returns it as
 * a UTC ISO string with millisecond precision; `undefined` when the text is not such a date-time.
 */
export function normalizeEventTime(text: string): string | undefined {
  const match = ISO_DATE_TIME.exec(text.trim());
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction, , sign, offsetHours, offsetMinutes] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // 60 admits a leap second, which JavaScript dates cannot hold; it rolls into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const offsetH = offsetHours === undefined ? 0 : Number(offsetHours);
  const offsetM = offsetMinutes === undefined ? 0 : Number(offsetMinutes);
  if (offsetH > 23 || offsetM > 59) return undefined;
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const offset = (sign === '-' ? -1 : 1) * (offsetH * 60 + offsetM);
  const time = date.getTime() - offset * 60_000;
  if (!Number.isFinite(time)) return undefined;
  return new Date(time).toISOString();
}
