import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../log';
import type { Store } from './types';

const META_PK = 'META';

/**
 * The retention set through the sync API (PUT /api/v1/settings), kept in the table so it outlives
 * restarts and reaches every instance: each reads it when it starts and again at most every `refreshMs`,
 * in the background, so no redirect waits for it. Until one is set, the deployment's
 * REVTRAIL_RETENTION_DAYS applies.
 */
export class RetentionSetting {
  private checkedAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly defaultDays: number,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly refreshMs = 60_000,
  ) {}

  get days(): number {
    return this.store.retentionDays;
  }

  /** Reads the stored setting now (throws when the store does). */
  async refresh(): Promise<void> {
    this.reading ??= this.store
      .getSettings()
      .then((s) => {
        this.checkedAt = this.now();
        this.store.setRetentionDays(s.retentionDays ?? this.defaultDays);
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  /** Starts a background read when the last one is older than refreshMs; a failure waits for the next. */
  refreshIfStale(): void {
    if (this.reading || this.now() - this.checkedAt < this.refreshMs) return;
    this.checkedAt = this.now();
    this.refresh().catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'retention setting not read; the last one applies'));
  }

  async set(days: number): Promise<void> {
    await this.store.putSettings({ retentionDays: days });
    this.store.setRetentionDays(days);
    this.checkedAt = this.now();
  }
}

/** The table's settings items (pk META), read and written apart from the Store's own: docs/table.md. */
export class SettingsTable {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(sk: string): Promise<Record<string, unknown> | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: META_PK, sk }, ConsistentRead: true }));
    return out.Item ?? null;
  }

  /** Writes the item whole; with `version`, only over that version of it (0: only where there is none yet). */
  async put(sk: string, item: Record<string, unknown>, version?: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...item, pk: META_PK, sk, ...(version === undefined ? {} : { version: version + 1 }) },
          ...(version === undefined
            ? {}
            : version === 0
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
        }),
      );
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }
}

/** An origin as browsers send it (`https://brand.com`, `http://localhost:3000`), or null. */
export function originOf(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > ORIGIN_MAX || !URL.canParse(raw)) return null;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.origin === raw.replace(/\/$/, '') ? url.origin : null;
}

const ORIGIN_MAX = 200;
/** How many origins the app may allow on top of the deployment's. */
export const ALLOWED_ORIGINS_MAX = 50;
const ORIGINS_SK = 'pixel-origins';
/** A refused origin is read again from the table at most this often per instance before it is refused. */
const RECHECK_MS = 1000;

/**
 * The sites whose pixel may send events (POST /api/v1/collect): the deployment's REVTRAIL_ALLOWED_ORIGINS,
 * plus those allowed from the app (PUT /api/v1/settings, kept in the table), plus the redirector's own host.
 * The deployment's cannot be removed from the app; the app's are added to them. Every instance reads the
 * table's list when it starts and again in the background at most every `refreshMs`; an origin not allowed
 * by what an instance last read is checked against the table again before it is refused (at most once a
 * second), so an origin allowed from the app is taken by every instance on its next pageview, with no restart.
 */
export class AllowedOrigins {
  private fromApp: string[] = [];
  private checkedAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly opts: { table: SettingsTable; deployment: readonly string[]; log: Logger; now: () => number; refreshMs?: number },
  ) {}

  get deployment(): readonly string[] {
    return this.opts.deployment;
  }

  /** The origins allowed from the app, as this instance last read them. */
  get stored(): readonly string[] {
    return this.fromApp;
  }

  allows(origin: string): boolean {
    return this.opts.deployment.includes(origin) || this.fromApp.includes(origin);
  }

  /** Whether `origin` is allowed, reading the table first when this instance's copy may be behind. */
  async allowsNow(origin: string): Promise<boolean> {
    if (this.allows(origin)) return true;
    if (this.now() - this.checkedAt >= RECHECK_MS) await this.refresh().catch((e: unknown) => this.warn(e));
    return this.allows(origin);
  }

  async refresh(): Promise<void> {
    this.reading ??= this.opts.table
      .get(ORIGINS_SK)
      .then((item) => {
        this.checkedAt = this.now();
        const list = item?.origins;
        this.fromApp = Array.isArray(list) ? list.map(originOf).filter((o): o is string => o !== null) : [];
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  refreshIfStale(): void {
    if (this.reading || this.now() - this.checkedAt < (this.opts.refreshMs ?? 10_000)) return;
    this.checkedAt = this.now();
    this.refresh().catch((e: unknown) => this.warn(e));
  }

  /** Replaces the origins allowed from the app; they are taken from the moment this resolves. */
  async set(origins: readonly string[]): Promise<void> {
    const list = [...new Set(origins)];
    await this.opts.table.put(ORIGINS_SK, { origins: list, updatedAt: this.now() });
    this.fromApp = list;
    this.checkedAt = this.now();
  }

  private now(): number {
    return this.opts.now();
  }

  private warn(e: unknown): void {
    this.opts.log.warn({ err: (e as Error).message }, 'allowed origins not read; the last ones read apply');
  }
}

/** The DynamoDB client of the store the app is given (DynamoStore's, or a wrapper's that passes it through). */
export function dynamoClientOf(store: Store): DynamoDBClient {
  const client = (store as { client?: DynamoDBClient }).client;
  if (typeof client?.send !== 'function') throw new Error('the settings are kept in the DynamoDB table: the store must expose its client');
  return client;
}
