/**
 * Stripe's form-style query strings, as the `stripe` client writes them: nested keys in brackets
 * (`created[gte]=1`, `payment[payment_intent]=pi_1`) and arrays with indexes (`expand[0]=a`) or without
 * (`expand[]=a`). Brackets may arrive encoded or not; URLSearchParams decodes both.
 */

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };
export type Query = { [key: string]: QueryValue };

const KEY_RE = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

export function parseQuery(search: string): Query {
  const root: Query = {};
  for (const [rawKey, value] of new URLSearchParams(search)) {
    const match = KEY_RE.exec(rawKey);
    const path = match ? [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)] : [rawKey];
    assign(root, path, value);
  }
  return root;
}

function assign(container: Query | QueryValue[], path: string[], value: string): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(container)) {
    const index = head === '' ? container.length : Number(head);
    if (rest.length === 0) container[index] = value;
    else assign(childOf(container, index, rest[0]!), rest, value);
    return;
  }
  if (rest.length === 0) container[head] = value;
  else assign(childOf(container, head, rest[0]!), rest, value);
}

/** The nested container at `key`, created as an array when the next segment is an index. */
function childOf(
  parent: Query | QueryValue[],
  key: string | number,
  nextSegment: string,
): Query | QueryValue[] {
  const existing = (parent as Record<string | number, QueryValue | undefined>)[key];
  if (existing !== undefined && typeof existing !== 'string') return existing;
  const fresh: Query | QueryValue[] = nextSegment === '' || /^\d+$/.test(nextSegment) ? [] : {};
  (parent as Record<string | number, QueryValue>)[key] = fresh;
  return fresh;
}

/** A string parameter; undefined when absent, null when present with the wrong shape. */
export function stringParam(q: Query, name: string): string | undefined | null {
  const v = q[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}

/** An array parameter given with or without indexes; a lone string counts as one element. */
export function arrayParam(q: Query, name: string): string[] | null {
  const v = q[name];
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? (v.filter((x) => x !== undefined) as string[]) : null;
  return null;
}

export function objectParam(q: Query, name: string): Query | undefined | null {
  const v = q[name];
  if (v === undefined) return undefined;
  return typeof v === 'object' && !Array.isArray(v) ? v : null;
}
