/**
 * Small, explicit readers for untrusted objects (HTTP bodies, query strings, settings). Each problem is
 * a sentence naming the field, collected so one answer lists them all.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `value` as an object with only the `allowed` keys; problems are appended. */
export function readObject(value: unknown, allowed: readonly string[], problems: string[], what = 'body'): Record<string, unknown> {
  if (!isPlainObject(value)) {
    problems.push(`${what} must be a JSON object`);
    return {};
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(`${what === 'body' ? '' : `${what}.`}${key}: unknown field (allowed: ${allowed.join(', ')})`);
  }
  return value;
}

export interface StringRule {
  required?: boolean;
  nullable?: boolean;
  trim?: boolean;
  min?: number;
  max: number;
  /** A test with the sentence to say when it fails. */
  check?: (value: string) => string | null;
}

/** A string field: undefined when absent (and not required), null when null is allowed and given. */
export function readString(obj: Record<string, unknown>, key: string, rule: StringRule, problems: string[]): string | null | undefined {
  const raw = obj[key];
  if (raw === undefined || (raw === null && rule.nullable)) {
    if (rule.required) problems.push(`${key}: required`);
    return raw as null | undefined;
  }
  if (typeof raw !== 'string') {
    problems.push(`${key}: must be a string`);
    return undefined;
  }
  const value = rule.trim ? raw.trim() : raw;
  if (value.length < (rule.min ?? 0)) {
    problems.push(rule.min === 1 ? `${key}: must not be empty` : `${key}: at least ${rule.min} characters`);
    return undefined;
  }
  if (value.length > rule.max) {
    problems.push(`${key}: at most ${rule.max} characters`);
    return undefined;
  }
  const problem = rule.check?.(value);
  if (problem) {
    problems.push(`${key}: ${problem}`);
    return undefined;
  }
  return value;
}

export function readBoolean(obj: Record<string, unknown>, key: string, problems: string[]): boolean | undefined {
  const raw = obj[key];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'boolean') {
    problems.push(`${key}: must be true or false`);
    return undefined;
  }
  return raw;
}

/** A whole number given as text (query strings, environment variables). */
export function readIntText(raw: string | undefined, name: string, min: number, max: number, fallback: number, problems: string[]): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return n;
}

export function parsed<T>(value: T, problems: string[]): Parsed<T> {
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}
