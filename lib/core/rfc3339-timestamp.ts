/**
 * Parses an RFC 3339 `date-time` (with `Z` or a numeric offset) to epoch ms; `undefined` if invalid.
 * Strict where `Date.parse` is lenient: free text and impossible dates are refused, and so is a timestamp
 * without an offset, which `Date.parse` would read in the server's own time zone.
 */
export function parseRfc3339(value: string): number | undefined {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
      value,
    );
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leapFebruary = month === 2 && day === 29;
  const isLeapYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (leapFebruary && !isLeapYear) return undefined;
  // Leap seconds (:60) are refused: no list needs one, and Date cannot represent them.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMs = 0;
  if (match[8] === undefined) {
    const offsetHours = Number(match[10]);
    const offsetMinutes = Number(match[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offsetMs = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  const fraction = match[7] === undefined ? 0 : Math.floor(Number(`0${match[7]}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMs;
}
