export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** An injected source of time: every `...At` in Revtrail is UTC epoch milliseconds. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The UTC calendar day of an instant, as YYYY-MM-DD. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Midnight UTC at the start of the given YYYY-MM-DD day. */
export function utcDayStart(day: string): number {
  const at = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(at)) throw new RangeError(`not a day: ${day}`);
  return at;
}

/** Stripe and DynamoDB TTLs speak epoch seconds; Revtrail speaks ms. Convert only at those edges. */
export const toEpochSeconds = (at: number): number => Math.floor(at / SECOND_MS);
export const fromEpochSeconds = (s: number): number => s * SECOND_MS;
