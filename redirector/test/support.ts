import { randomBytes } from 'node:crypto';
import { newEventId, type Click, type Clock } from '@revtrail/shared';
import { buildApp, type RevtrailApp } from '../src/app';
import { configOrThrow, type Config } from '../src/config';
import { silentLogger } from '../src/log';
import type { Spill } from '../src/spill/types';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../src/store/embedded';
import type { EventRecord } from '../src/store/types';
import type pino from 'pino';

export const TOKEN = 'test-sync-token-0123456789abcdefghijklmnop';
export const EMAIL_KEY = 'test-email-hash-key-0123456789abcdefghij';
export const CHROME_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return configOrThrow({
    REVTRAIL_TABLE: `t_${randomBytes(4).toString('hex')}`,
    REVTRAIL_SYNC_TOKEN: TOKEN,
    REVTRAIL_EMAIL_HASH_KEY: EMAIL_KEY,
    REVTRAIL_IP_SALT_SEED: 'test-ip-salt-seed-0123456789abcdefghijklm',
    REVTRAIL_FEED_SETTLE_MS: '0',
    // Generous: a loaded test machine must not spill; the outage tests set their own budget.
    REVTRAIL_CLICK_WRITE_BUDGET_MS: '5000',
    ...overrides,
  });
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public at = Date.UTC(2026, 10, 24, 12, 0, 0)) {}
  now(): number {
    return this.at;
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

/** A spill that keeps what it is given, for assertions. */
export class MemorySpill implements Spill {
  readonly records: EventRecord[] = [];
  async put(records: EventRecord[]): Promise<void> {
    this.records.push(...records);
  }
}

let shared: EmbeddedDynamo | null = null;

/** One in-memory dynalite per test file (each test gets its own table), over real HTTP. */
export async function sharedDynamo(): Promise<EmbeddedDynamo> {
  shared ??= await startEmbeddedDynamo();
  return shared;
}

export async function closeSharedDynamo(): Promise<void> {
  await shared?.close();
  shared = null;
}

export interface TestApp {
  app: RevtrailApp;
  store: DynamoStore;
  config: Config;
  clock: ManualClock;
  spill: MemorySpill;
  auth: { authorization: string };
  putLink(slug: string, body: Record<string, unknown>): Promise<void>;
}

export async function makeTestApp(
  opts: { settings?: Record<string, string>; clock?: ManualClock; log?: pino.Logger } = {},
): Promise<TestApp> {
  const dynamo = await sharedDynamo();
  const clock = opts.clock ?? new ManualClock();
  const config = testConfig(opts.settings);
  const store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, client: dynamo.client(), clock });
  await store.ensureTable(clock.now());
  const spill = new MemorySpill();
  const app = await buildApp({ store, config, log: opts.log ?? (silentLogger as pino.Logger), clock, events: { mode: 'inline', spill } });
  const auth = { authorization: `Bearer ${TOKEN}` };
  return {
    app,
    store,
    config,
    clock,
    spill,
    auth,
    async putLink(slug, body) {
      const res = await app.inject({ method: 'PUT', url: `/api/v1/links/${slug}`, headers: auth, payload: body });
      if (res.statusCode >= 300) throw new Error(`putLink ${slug}: ${res.statusCode} ${res.body}`);
    },
  };
}

export function cookieOf(setCookie: string | string[] | undefined, name: string): string | null {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return all.find((c) => c.startsWith(`${name}=`)) ?? null;
}

/** A human click on link `spring` at `at`, told apart by its utm_content; `over` changes any field. */
export function testClick(at: number, content: string, over: Partial<Click> = {}): Click {
  return {
    id: newEventId(at),
    slug: 'spring',
    at,
    visitorId: 'TestVisitor01234567890',
    referrerHost: null,
    referrerUrl: null,
    device: 'desktop',
    browser: 'Chrome',
    os: 'macOS',
    country: null,
    ipHash: null,
    clickIds: {},
    utm: { utm_content: content },
    bot: false,
    botReason: null,
    duplicate: false,
    channel: 'Newsletter',
    campaign: null,
    partnerId: null,
    ...over,
  };
}
