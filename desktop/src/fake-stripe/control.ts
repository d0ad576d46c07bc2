/**
 * What tests steer and inspect besides the data: the API keys the server knows, faults to inject into
 * the next requests, and the log of requests it answered.
 */

export interface KeyRecord {
  key: string;
  kind: 'secret' | 'restricted';
  /** Granted rak_ permissions; a secret key may do everything. */
  permissions: ReadonlySet<string>;
  revoked: boolean;
}

export class KeyRing {
  private readonly keys = new Map<string, KeyRecord>();
  private counter = 0;

  addRestricted(permissions: Iterable<string>, mode: 'test' | 'live' = 'test'): string {
    return this.add('restricted', new Set(permissions), mode);
  }

  addSecret(mode: 'test' | 'live' = 'test'): string {
    return this.add('secret', new Set(), mode);
  }

  /** Revokes a key: Stripe then answers 401 with code api_key_expired. */
  revoke(key: string): void {
    const record = this.keys.get(key);
    if (!record) throw new Error('fake Stripe: revoking a key it never issued');
    record.revoked = true;
  }

  get(key: string): KeyRecord | undefined {
    return this.keys.get(key);
  }

  private add(kind: KeyRecord['kind'], permissions: ReadonlySet<string>, mode: 'test' | 'live'): string {
    this.counter += 1;
    // Real keys are about 100 characters after the prefix; the shape matters more than the length here.
    const key = `${kind === 'secret' ? 'sk' : 'rk'}_${mode}_51FakeRevtrail${String(this.counter).padStart(6, '0')}x${'K'.repeat(24)}${String(this.counter).padStart(4, '0')}`;
    this.keys.set(key, { key, kind, permissions, revoked: false });
    return key;
  }
}

export interface FaultOptions {
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Sent as `Stripe-Should-Retry`: the official client retries a 429 only when this says true. */
  shouldRetry?: boolean;
  /** Only requests to this path (e.g. '/v1/charges') take the fault; others pass. */
  path?: string;
}

export interface Fault extends FaultOptions {
  status: number;
}

export class FaultQueue {
  private readonly queue: Fault[] = [];

  /** The next `n` matching requests are answered with `status` (429, 500, 503, ...). */
  failNext(n: number, status: number, options: FaultOptions = {}): void {
    for (let i = 0; i < n; i++) this.queue.push({ status, ...options });
  }

  take(path: string): Fault | undefined {
    const at = this.queue.findIndex((f) => f.path === undefined || f.path === path);
    return at === -1 ? undefined : this.queue.splice(at, 1)[0];
  }

  get pending(): number {
    return this.queue.length;
  }
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  /** The Stripe-Account header; null for the platform. */
  account: string | null;
  /** The Stripe-Version header as sent; null when absent. */
  apiVersion: string | null;
  status: number;
  /** Epoch milliseconds on the state's clock. */
  at: number;
}

export class RequestLog {
  readonly entries: RequestRecord[] = [];

  add(record: RequestRecord): void {
    this.entries.push(record);
  }

  /** Requests per path (or to one path): what a test asserts to rule out a retry storm. */
  count(path?: string): number {
    return path === undefined ? this.entries.length : this.entries.filter((r) => r.path === path).length;
  }

  countsByPath(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.entries) counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
    return counts;
  }

  apiVersions(): Set<string> {
    return new Set(this.entries.flatMap((r) => (r.apiVersion === null ? [] : [r.apiVersion])));
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/**
 * Endpoints as a given Stripe-compatible server offers them: one it lacks (an older API, another
 * implementation) answers as Stripe answers a URL it does not know; a slow one answers only after a delay,
 * so a client's timeout can be reached on that endpoint alone.
 */
export class EndpointControl<R extends string = string> {
  private readonly lacking = new Set<R>();
  private readonly delays = new Map<R, number>();

  /** Answers requests for `resource` (list and retrieve) with Stripe's 404 for an unrecognized URL. */
  remove(resource: R): void {
    this.lacking.add(resource);
  }

  restore(resource: R): void {
    this.lacking.delete(resource);
  }

  lacks(resource: R): boolean {
    return this.lacking.has(resource);
  }

  /** Holds every answer for `resource` this long; 0 answers at once again. */
  delay(resource: R, ms: number): void {
    if (ms > 0) this.delays.set(resource, ms);
    else this.delays.delete(resource);
  }

  delayOf(resource: R): number {
    return this.delays.get(resource) ?? 0;
  }
}
