/**
 * What sst.config.ts asks AWS for, checked without AWS: the config runs against a recording stand-in of
 * SST's globals. The stand-in knows SST's argument names (sst@4.17 platform sources, see allowed keys
 * below) and refuses any other, so a misspelt option fails here as it would in `npm run typecheck:infra`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config';
import { startLocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import type pino from 'pino';
import { SPILL_LOG_MESSAGE } from '../src/recorder';
import { TABLE_INDEXES, VISITOR_INDEX } from '../src/store/dynamo';
import { ORIGIN_PROOF_HEADER } from '../src/visitor';

const root = realpathSync(fileURLToPath(new URL('../../', import.meta.url)));
const FUNCTION_URL = 'https://abc123xyz.lambda-url.eu-west-1.on.aws/';

// ---- the stand-in -------------------------------------------------------------------------------------

type Args = Record<string, unknown>;
type Recorded = { kind: string; name: string; args: Args; self: object; opts?: Args };

const ARG_KEYS: Record<string, readonly string[]> = {
  Dynamo: ['fields', 'primaryIndex', 'globalIndexes', 'localIndexes', 'stream', 'ttl', 'deletionProtection', 'transform'],
  Function: [
    'live', 'dev', 'retries', 'name', 'description', 'runtime', 'bundle', 'handler', 'timeout', 'memory', 'storage',
    'environment', 'permissions', 'policies', 'link', 'streaming', 'injections', 'logging', 'architecture', 'role',
    'url', 'nodejs', 'python', 'copyFiles', 'concurrency', 'versioning', 'layers', 'volume', 'tags', 'vpc', 'hook',
    'durable', 'transform',
  ],
  'Function.url': ['route', 'router', 'authorization', 'cors'],
  'Function.url.router': ['instance', 'domain', 'path', 'rewrite', 'readTimeout', 'keepAliveTimeout', 'connectionTimeout', 'connectionAttempts'],
  'Function.nodejs': ['loader', 'install', 'banner', 'esbuild', 'minify', 'format', 'sourcemap', 'splitting', 'plugins'],
  'Function.logging': ['retention', 'logGroup', 'format'],
  'Function.permissions[]': ['effect', 'actions', 'resources', 'conditions'],
  'Function.copyFiles[]': ['from', 'to'],
  Queue: ['fifo', 'delay', 'visibilityTimeout', 'dlq', 'transform'],
  'Queue.dlq': ['queue', 'retry'],
  'Queue.subscribe': ['filters', 'batch', 'transform'],
  'Queue.subscribe.batch': ['size', 'window', 'partialResponses'],
  Router: ['domain', 'routes', 'edge', 'invalidation', 'protection', 'waf', 'transform'],
  'Router.domain': ['name', 'aliases', 'redirects', 'dns', 'cert'],
  'Router.edge': ['viewerRequest', 'viewerResponse'],
  'Router.edge.viewerRequest': ['injection', 'kvStore', 'kvStores'],
  'Router.transform': ['cachePolicy', 'cdn', 'waf', 'wafLogGroup', 'wafLogging'],
  'dns()': ['zone', 'override', 'transform'],
  Linkable: ['properties', 'include'],
  // @pulumi/random 4.16.6, RandomPasswordArgs
  RandomPassword: [
    'keepers', 'length', 'lower', 'minLower', 'minNumeric', 'minSpecial', 'minUpper', 'number', 'numeric', 'overrideSpecial', 'special', 'upper',
  ],
  'Dynamo.index': ['hashKey', 'rangeKey', 'projection'],
  'Dynamo.transform': ['table'],
  // @pulumi/aws 7.20 (.sst/platform/node_modules/@pulumi/aws), the argument interfaces of each resource
  'ssm.Parameter': ['allowedPattern', 'arn', 'dataType', 'description', 'insecureValue', 'keyId', 'name', 'overwrite', 'region', 'tags', 'tier', 'type', 'value', 'valueWo', 'valueWoVersion'],
  'cloudwatch.MetricAlarm': [
    'actionsEnabled', 'alarmActions', 'alarmDescription', 'comparisonOperator', 'datapointsToAlarm', 'dimensions', 'evaluateLowSampleCountPercentiles',
    'evaluationPeriods', 'extendedStatistic', 'insufficientDataActions', 'metricName', 'metricQueries', 'name', 'namespace', 'okActions', 'period',
    'region', 'statistic', 'tags', 'threshold', 'thresholdMetricId', 'treatMissingData', 'unit',
  ],
  'cloudwatch.LogMetricFilter': ['applyOnTransformedLogs', 'logGroupName', 'metricTransformation', 'name', 'pattern', 'region'],
  'sns.Topic': ['name', 'displayName', 'kmsMasterKeyId', 'tags'],
  'sns.TopicSubscription': [
    'confirmationTimeoutInMinutes', 'deliveryPolicy', 'endpoint', 'endpointAutoConfirms', 'filterPolicy', 'filterPolicyScope', 'protocol',
    'rawMessageDelivery', 'redrivePolicy', 'region', 'replayPolicy', 'subscriptionRoleArn', 'topic',
  ],
};

function checkKeys(where: string, value: unknown, kind: string) {
  if (value === undefined || typeof value !== 'object' || value === null) return;
  const allowed = ARG_KEYS[kind] ?? [];
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new Error(`${where}: SST has no argument "${key}" (known: ${allowed.join(', ')})`);
  }
}

/** A resolved Output: apply runs at once and properties lift, as with Pulumi's. */
const OUTPUT = Symbol('output');
type FakeOutput = { [OUTPUT]: true; value: unknown; apply(fn: (value: never) => unknown): FakeOutput };
function output(value: unknown): FakeOutput {
  if (isOutput(value)) return value;
  const target = { [OUTPUT]: true as const, value, apply: (fn: (value: never) => unknown) => output(fn(value as never)) };
  return new Proxy(target, {
    get(t, key) {
      if (key in t) return t[key as keyof typeof t];
      if (typeof key === 'string' && key !== 'then' && typeof value === 'object' && value !== null) {
        return output((value as Record<string, unknown>)[key]);
      }
      return undefined;
    },
  });
}
function isOutput(value: unknown): value is FakeOutput {
  return typeof value === 'object' && value !== null && OUTPUT in value;
}
function resolve(value: unknown): unknown {
  if (isOutput(value)) return resolve(value.value);
  if (Array.isArray(value)) return value.map(resolve);
  if (typeof value === 'object' && value !== null && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

let recorded: Recorded[] = [];
function record(kind: string, name: string, args: Args, self: object, opts?: Args) {
  if (recorded.some((r) => r.name === name)) throw new Error(`two components named ${name}`);
  recorded.push({ kind, name, args, self, opts });
}

/** sst.aws.permission's shape, as SST's components put it in a link's `include`. */
type Permission = { type: 'aws.permission'; actions: string[]; resources: unknown[] };
type LinkDefinition = { properties: Args; include?: Permission[] };

/** The SSM parameters of the fake AWS account a test deploys to. */
let account = new Map<string, string>();

class Dynamo {
  readonly name: FakeOutput;
  readonly arn: FakeOutput;
  constructor(readonly component: string, args: Args) {
    this.name = output(`revtrail-prod-${component}Table-abc123`);
    this.arn = output(`arn:aws:dynamodb:eu-west-1:111111111111:table/revtrail-prod-${component}Table-abc123`);
    checkKeys(`Dynamo ${component}`, args, 'Dynamo');
    checkKeys(`Dynamo ${component}.primaryIndex`, args.primaryIndex, 'Dynamo.index');
    for (const [index, def] of Object.entries((args.globalIndexes ?? {}) as Args)) checkKeys(`Dynamo ${component}.${index}`, def, 'Dynamo.index');
    checkKeys(`Dynamo ${component}.transform`, args.transform, 'Dynamo.transform');
    record('Dynamo', component, args, this);
  }
  /** As sst@4.17's Dynamo links (dynamo.ts getSSTLink), unless Linkable.wrap replaced it. */
  getSSTLink(): LinkDefinition {
    return { properties: { name: this.name }, include: [{ type: 'aws.permission', actions: ['dynamodb:*'], resources: [this.arn, this.arn.apply((a: string) => `${a}/*`)] }] };
  }
}

class Queue {
  readonly url: FakeOutput;
  readonly arn: FakeOutput;
  readonly nodes: { queue: FakeOutput };
  subscription: { subscriber: Args; args: Args } | undefined;
  constructor(readonly component: string, args: Args = {}) {
    this.url = output(`https://sqs.eu-west-1.amazonaws.com/111111111111/revtrail-prod-${component}`);
    this.arn = output(`arn:aws:sqs:eu-west-1:111111111111:revtrail-prod-${component}`);
    this.nodes = { queue: output({ name: `revtrail-prod-${component}` }) };
    checkKeys(`Queue ${component}`, args, 'Queue');
    checkKeys(`Queue ${component}.dlq`, args.dlq, 'Queue.dlq');
    record('Queue', component, args, this);
  }
  subscribe(subscriber: Args, args: Args = {}) {
    if (this.subscription) throw new Error(`${this.component} is already subscribed`); // as SST does
    checkKeys(`${this.component}.subscribe()`, subscriber, 'Function');
    checkKeys(`${this.component}.subscribe()`, subscriber.nodejs, 'Function.nodejs');
    checkKeys(`${this.component}.subscribe()`, subscriber.logging, 'Function.logging');
    for (const p of (subscriber.permissions ?? []) as Args[]) checkKeys(`${this.component}.subscribe() permissions`, p, 'Function.permissions[]');
    checkKeys(`${this.component}.subscribe() options`, args, 'Queue.subscribe');
    checkKeys(`${this.component}.subscribe() batch`, args.batch, 'Queue.subscribe.batch');
    this.subscription = { subscriber, args };
  }
  /** As sst@4.17's Queue links (queue.ts getSSTLink), unless Linkable.wrap replaced it. */
  getSSTLink(): LinkDefinition {
    return { properties: { url: this.url }, include: [{ type: 'aws.permission', actions: ['sqs:*'], resources: [this.arn] }] };
  }
}

class Router {
  readonly nodes = { cdn: output({ nodes: { distribution: output({ domainName: 'd111111abcdef8.cloudfront.net' }) } }) };
  constructor(readonly component: string, args: Args = {}) {
    checkKeys(`Router ${component}`, args, 'Router');
    if (typeof args.domain === 'object') checkKeys(`Router ${component}.domain`, args.domain, 'Router.domain');
    checkKeys(`Router ${component}.edge`, args.edge, 'Router.edge');
    checkKeys(`Router ${component}.edge.viewerRequest`, (args.edge as Args | undefined)?.viewerRequest, 'Router.edge.viewerRequest');
    checkKeys(`Router ${component}.transform`, args.transform, 'Router.transform');
    record('Router', component, args, this);
  }
}

class SstFunction {
  readonly url = output(FUNCTION_URL);
  readonly name: FakeOutput;
  readonly nodes: { logGroup: FakeOutput };
  constructor(readonly component: string, args: Args) {
    this.name = output(`revtrail-prod-${component}Function-abcdef`);
    this.nodes = { logGroup: output({ name: output(`/aws/lambda/revtrail-prod-${component}Function-abcdef`) }) };
    checkKeys(`Function ${component}`, args, 'Function');
    checkKeys(`Function ${component}.url`, args.url, 'Function.url');
    checkKeys(`Function ${component}.url.router`, (args.url as Args | undefined)?.router, 'Function.url.router');
    checkKeys(`Function ${component}.nodejs`, args.nodejs, 'Function.nodejs');
    checkKeys(`Function ${component}.logging`, args.logging, 'Function.logging');
    for (const p of (args.permissions ?? []) as Args[]) checkKeys(`Function ${component}.permissions`, p, 'Function.permissions[]');
    for (const entry of (args.copyFiles ?? []) as Args[]) checkKeys(`Function ${component}.copyFiles`, entry, 'Function.copyFiles[]');
    record('Function', component, args, this);
  }
}

/** As sst@4.17's Secret: the value set with `sst secret set` (SST_SECRET_<name>), else the placeholder. */
class Secret {
  readonly value: FakeOutput;
  constructor(readonly component: string, placeholder?: unknown) {
    const value = process.env[`SST_SECRET_${component}`] ?? resolve(placeholder);
    if (typeof value !== 'string') throw new Error(`Set a value for ${component} with \`sst secret set ${component} <value>\``);
    this.value = output(value);
    record('Secret', component, { placeholder }, this);
  }
  getSSTLink(): LinkDefinition {
    return { properties: { value: this.value } };
  }
}

class Linkable {
  constructor(readonly component: string, readonly args: Args) {
    checkKeys(`Linkable ${component}`, args, 'Linkable');
    record('Linkable', component, args, this);
  }
  getSSTLink(): LinkDefinition {
    return this.args as LinkDefinition;
  }
  /** As sst@4.17's Linkable.wrap (linkable.ts): the class's link is the callback's, for every instance. */
  static wrap(cls: { prototype: { getSSTLink(): LinkDefinition } }, cb: (resource: never) => LinkDefinition) {
    cls.prototype.getSSTLink = function (this: never) {
      return cb(this);
    };
  }
}

class RandomPassword {
  readonly result: FakeOutput;
  constructor(readonly component: string, args: Args) {
    checkKeys(`RandomPassword ${component}`, args, 'RandomPassword');
    // What the provider would make: `length` letters and digits, different for each resource.
    this.result = output(createHash('sha512').update(component).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, Number(args.length)));
    record('RandomPassword', component, args, this);
  }
}

/** A plain @pulumi/aws resource: its arguments checked against the provider's, recorded, with an arn. */
function awsResource(kind: string, onCreate?: (args: Args) => void) {
  return class {
    readonly arn: FakeOutput;
    constructor(readonly component: string, args: Args, opts?: Args) {
      checkKeys(`${kind} ${component}`, args, kind);
      this.arn = output(`arn:aws:${kind.split('.')[0]}:eu-west-1:111111111111:${component}`);
      record(kind, component, args, this, opts);
      onCreate?.(args);
    }
  };
}

const fakeAws = {
  ssm: {
    // Deploying it stores the parameter in the account: the next deploy reads it back.
    Parameter: awsResource('ssm.Parameter', (args) => account.set(String(resolve(args.name)), String(resolve(args.value)))),
    async getParametersByPath({ path }: { path: string }) {
      const found = [...account].filter(([name]) => name.startsWith(`${path}/`) && !name.slice(path.length + 1).includes('/'));
      return { names: found.map(([n]) => n), values: found.map(([, v]) => v), path };
    },
  },
  cloudwatch: { MetricAlarm: awsResource('cloudwatch.MetricAlarm'), LogMetricFilter: awsResource('cloudwatch.LogMetricFilter') },
  sns: { Topic: awsResource('sns.Topic'), TopicSubscription: awsResource('sns.TopicSubscription') },
};

function dns(args: Args = {}) {
  checkKeys('sst.aws.dns()', args, 'dns()');
  return { provider: 'aws', ...args };
}

interface SstConfigModule {
  default: { app(input: { stage: string }): Args; run(): Promise<Record<string, unknown>> };
  apexDomain(host: string): string;
  ORIGIN_PROOF_HEADER: string;
  SPILL_LOG_MESSAGE: string;
  NO_FUNCTION_URLS: Record<string, { name: string; nearby: string[] }>;
  settingsParameter(stage: string): string;
}

let config: SstConfigModule;

beforeAll(async () => {
  Object.assign(globalThis, {
    $config: (c: unknown) => c,
    $output: output,
    $dev: false,
    sst: { aws: { Dynamo, Function: SstFunction, Queue, Router, dns }, Secret, Linkable },
    random: { RandomPassword },
    aws: fakeAws,
  });
  // A computed specifier keeps tsc (npm run typecheck) from following it: the file needs SST's globals.
  config = (await import(pathToFileURL(join(root, 'sst.config.ts')).href)) as SstConfigModule;
});

// ---- helpers -----------------------------------------------------------------------------------------

const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

/**
 * Runs the config's run() for `stage` (dev unless said) with exactly these deploy-time settings, in a fresh
 * AWS account unless one is passed (to deploy a stage again), and returns what it asked SST for.
 */
async function deploy(env: Record<string, string> = {}, opts: { stage?: string; account?: Map<string, string> } = {}) {
  for (const key of Object.keys(process.env)) if (/^(REVTRAIL_|AWS_|SST_SECRET_|SST_AWS_)/.test(key)) delete process.env[key];
  Object.assign(process.env, { SST_AWS_REGION: 'eu-west-1', ...env });
  Object.assign(globalThis, { $app: { name: 'revtrail', stage: opts.stage ?? 'dev' } });
  account = opts.account ?? new Map();
  recorded = [];
  const outputs = resolve(await config.default.run()) as Record<string, string>;
  const one = (name: string) => {
    const found = recorded.find((r) => r.name === name);
    if (!found) throw new Error(`no component named ${name}; got ${recorded.map((r) => r.name).join(', ')}`);
    return found;
  };
  return { outputs, recorded, one, account };
}

/**
 * A function's IAM policy as SST builds it (function.ts createRole): its `permissions`, the `aws.permission`
 * includes of what it links, the queue actions SST adds to a queue subscriber (queue-lambda-subscriber.ts),
 * and AWSLambdaBasicExecutionRole's actions (SST attaches it when logging is on).
 */
function policyOf(fn: Args, extra: { actions: string[]; resources: unknown[] }[] = []): { actions: string[]; resources: string[] }[] {
  const links = ((fn.link ?? []) as { getSSTLink(): LinkDefinition }[]).flatMap((l) => l.getSSTLink().include ?? []).filter((i) => i.type === 'aws.permission');
  const statements = [...extra, ...((fn.permissions ?? []) as { actions: string[]; resources: unknown[] }[]), ...links];
  const basic = fn.logging === false ? [] : [{ actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: ['*'] }];
  return [...statements, ...basic].map((s) => ({ actions: [...s.actions], resources: (resolve(s.resources) as string[]).map(String) }));
}

function seconds(duration: unknown): number {
  const m = /^(\d+) (second|minute|hour)s?$/.exec(String(duration));
  if (!m) throw new Error(`not an SST duration: ${String(duration)}`);
  return Number(m[1]) * { second: 1, minute: 60, hour: 3600 }[m[2] as 'second' | 'minute' | 'hour'];
}

function megabytes(size: unknown): number {
  const m = /^(\d+) (MB|GB)$/.exec(String(size));
  if (!m) throw new Error(`not an SST size: ${String(size)}`);
  return Number(m[1]) * (m[2] === 'GB' ? 1024 : 1);
}

/** SST's handler string "dir/file.export" names a file with one of the Node extensions SST looks for. */
function handlerFileExists(handler: unknown): boolean {
  const base = String(handler).replace(/\.[^./]+$/, '');
  return ['.ts', '.mts', '.js', '.mjs'].some((ext) => existsSync(join(root, base + ext)));
}

function scriptSrc(snippet: string): { src: string; attributes: string[] } {
  const m = /^<script ([^>]*)><\/script>$/.exec(snippet);
  if (!m?.[1]) throw new Error(`not a script tag: ${snippet}`);
  const attributes = m[1].split(/\s+/);
  const src = attributes.find((a) => a.startsWith('src='))?.replace(/^src="(.*)"$/, '$1') ?? '';
  return { src, attributes: attributes.map((a) => a.split('=')[0] ?? '') };
}

// ---- the app ----------------------------------------------------------------------------------------

describe('sst.config.ts app()', () => {
  it('keeps prod data and guards prod against sst remove; other stages are removed completely', () => {
    delete process.env.REVTRAIL_ALLOW_REMOVE;
    const prod = config.default.app({ stage: 'prod' });
    const dev = config.default.app({ stage: 'dev' });
    expect(prod).toMatchObject({ name: 'revtrail', home: 'aws', removal: 'retain', protect: true });
    expect(dev).toMatchObject({ name: 'revtrail', home: 'aws', removal: 'remove', protect: false });

    process.env.REVTRAIL_ALLOW_REMOVE = '1';
    expect(config.default.app({ stage: 'prod' })).toMatchObject({ removal: 'retain', protect: false });
  });

  it('pins no region: the deployer picks it with AWS_REGION or the AWS profile', () => {
    for (const stage of ['prod', 'dev']) {
      const app = config.default.app({ stage });
      expect(JSON.stringify(app)).not.toMatch(/\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b/);
      expect(app.providers).toEqual({ random: '4.16.6' }); // the generated origin secret; aws left to SST's default
    }
  });
});

// ---- the resources ----------------------------------------------------------------------------------

describe('sst.config.ts run()', () => {
  it('creates the single table with its GSIs and item expiry on expiresAt', async () => {
    const { one } = await deploy();
    const table = one('Table');
    expect(table.kind).toBe('Dynamo');
    const fields = table.args.fields as Record<string, string>;
    for (const key of ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']) expect(fields[key]).toBe('string');
    expect(table.args.primaryIndex).toEqual({ hashKey: 'pk', rangeKey: 'sk' });
    expect(table.args.globalIndexes).toEqual({
      byVisitorKeys: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk', projection: 'keys-only' },
      byEmail: { hashKey: 'gsi2pk', rangeKey: 'gsi2sk' },
      // Kept this release for the functions a deploy has not replaced yet; nothing in it reads it.
      byVisitor: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk' },
    });
    // What the code reads, and what a local table gets (store/dynamo.ts), are the indexes declared here.
    const declared = table.args.globalIndexes as Record<string, { hashKey: string; rangeKey: string; projection?: string }>;
    for (const index of TABLE_INDEXES) {
      const [hash, range] = index.KeySchema!.map((k) => k.AttributeName);
      const projection = { ALL: undefined, KEYS_ONLY: 'keys-only' }[index.Projection!.ProjectionType as 'ALL' | 'KEYS_ONLY'];
      expect(declared[index.IndexName!], index.IndexName).toEqual({ hashKey: hash, rangeKey: range, ...(projection ? { projection } : {}) });
    }
    expect(TABLE_INDEXES.map((i) => i.IndexName)).toContain(VISITOR_INDEX);
    expect(table.args.ttl).toBe('expiresAt');
    // Every key an index uses must be a declared attribute, or DynamoDB refuses the table.
    const used = [table.args.primaryIndex, ...Object.values(table.args.globalIndexes as Args)].flatMap((i) => [(i as Args).hashKey, (i as Args).rangeKey]);
    for (const key of used) expect(Object.keys(fields)).toContain(key);
  });

  it('keeps point-in-time recovery on with a 7-day window instead of the 35 days SST leaves', async () => {
    const { one } = await deploy();
    // A transform object is merged into the aws.dynamodb.Table arguments SST builds (its `transform` helper).
    expect((one('Table').args.transform as Args | undefined)?.table).toEqual({ pointInTimeRecovery: { enabled: true, recoveryPeriodInDays: 7 } });
  });

  it('passes the consent mode, the GPC setting and Meta\'s to both functions, and refuses values the redirector would', async () => {
    const { one } = await deploy({ REVTRAIL_CONSENT: 'opt-in', REVTRAIL_HONOR_GPC: 'false', REVTRAIL_META: 'true' });
    expect(one('Redirector').args.environment).toMatchObject({ REVTRAIL_CONSENT: 'opt-in', REVTRAIL_HONOR_GPC: 'false', REVTRAIL_META: 'true' });
    expect((one('Spill').self as Queue).subscription?.subscriber.environment).toMatchObject({ REVTRAIL_CONSENT: 'opt-in' });
    const accepted = parseConfig({
      REVTRAIL_TABLE: 'revtrail',
      REVTRAIL_SYNC_TOKEN: 'a'.repeat(40),
      REVTRAIL_EMAIL_HASH_KEY: 'b'.repeat(40),
      REVTRAIL_IP_SALT_SEED: 'c'.repeat(40),
      ...(one('Redirector').args.environment as Record<string, string>),
    });
    expect(accepted.ok && [accepted.config.consent, accepted.config.honorGpc, accepted.config.meta]).toEqual(['opt-in', false, true]);
    await expect(deploy({ REVTRAIL_CONSENT: 'optin' })).rejects.toThrow(/REVTRAIL_CONSENT must be one of off, opt-out, opt-in/);
    await expect(deploy({ REVTRAIL_HONOR_GPC: 'yes' })).rejects.toThrow(/REVTRAIL_HONOR_GPC must be one of true, false/);
    await expect(deploy({ REVTRAIL_META: 'on' })).rejects.toThrow(/REVTRAIL_META must be one of true, false/);
  });

  it('generates the three secrets on a first deploy, different and long enough for config.ts', async () => {
    const { recorded, one } = await deploy();
    expect(recorded.filter((r) => r.kind === 'Secret').map((r) => r.name).sort()).toEqual(['EmailHashKey', 'IpSaltSeed', 'ProxySecret', 'StripeWebhookSecret', 'SyncToken', 'TelegramBotToken', 'TelegramForward', 'TelegramSecretToken']);
    const value = (name: string) => resolve((one(name).self as Secret).value) as string;
    for (const name of ['SyncToken', 'EmailHashKey', 'IpSaltSeed']) {
      expect(one(`${name}Value`)).toMatchObject({ kind: 'RandomPassword', args: { length: 48, special: false } });
      expect(value(name)).toBe(resolve((one(`${name}Value`).self as RandomPassword).result));
    }
    const parsed = parseConfig({ REVTRAIL_TABLE: 'revtrail', REVTRAIL_SYNC_TOKEN: value('SyncToken'), REVTRAIL_EMAIL_HASH_KEY: value('EmailHashKey'), REVTRAIL_IP_SALT_SEED: value('IpSaltSeed') });
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  });

  it('keeps a value set with `sst secret set` (stages deployed before the secrets were generated)', async () => {
    const kept = 'set-with-sst-secret-set-0123456789abcdef';
    const { one } = await deploy({ SST_SECRET_EmailHashKey: kept });
    expect(resolve((one('EmailHashKey').self as Secret).value)).toBe(kept);
    expect(resolve((one('SyncToken').self as Secret).value)).not.toBe(kept);
  });

  it('replays spilled clicks from a queue with a dead-letter queue, retries and partial batch failures', async () => {
    const { one, recorded } = await deploy({ REVTRAIL_RETENTION_DAYS: '120' });
    const spill = one('Spill');
    const { subscriber, args } = (spill.self as Queue).subscription ?? { subscriber: {}, args: {} };
    expect(subscriber.handler).toBe('redirector/src/replay.handler');
    expect(subscriber.architecture).toBe('arm64');
    // replay.ts reads the table and the retention (for item expiry), and no secret: the sync token stays with the redirector.
    expect(subscriber.link).toEqual([one('Table').self]);
    const { REVTRAIL_STAGE: _stage, ...redirectorEnvironment } = one('Redirector').args.environment as Record<string, string>;
    expect(subscriber.environment).toEqual(redirectorEnvironment);
    expect(subscriber.environment).toMatchObject({ REVTRAIL_RETENTION_DAYS: '120' });
    expect((args.batch as Args | undefined)?.partialResponses).toBe(true);

    const deadLetter = recorded.find((r) => r.kind === 'Queue' && r.name !== 'Spill');
    expect(deadLetter?.self).toBeInstanceOf(Queue);
    const dlq = spill.args.dlq as Args;
    expect(resolve(dlq.queue)).toBe(resolve((deadLetter?.self as Queue).arn));
    expect(dlq.retry).toBeGreaterThanOrEqual(2);
    // AWS: a queue feeding Lambda needs a visibility timeout of at least 6 x the function's timeout.
    expect(seconds(spill.args.visibilityTimeout)).toBeGreaterThanOrEqual(6 * seconds(subscriber.timeout));
  });

  it('runs both functions on the Node of .nvmrc / arm64, the redirector with a small memory size and a short timeout', async () => {
    const { one } = await deploy();
    const fn = one('Redirector');
    expect(fn.kind).toBe('Function');
    expect(fn.args.handler).toBe('redirector/src/lambda.handler');
    const nvmrc = readFileSync(join(root, '.nvmrc'), 'utf8').trim();
    expect(fn.args.runtime).toBe(`nodejs${nvmrc}.x`);
    expect((one('Spill').self as Queue).subscription?.subscriber.runtime).toBe(`nodejs${nvmrc}.x`);
    expect(fn.args.architecture).toBe('arm64');
    expect(megabytes(fn.args.memory)).toBeGreaterThanOrEqual(128);
    expect(megabytes(fn.args.memory)).toBeLessThanOrEqual(512);
    expect(seconds(fn.args.timeout)).toBeGreaterThanOrEqual(2);
    expect(seconds(fn.args.timeout)).toBeLessThanOrEqual(10);
    // Minified, and no source map generated (SST's build writes a linked one unless `sourcemap` is false).
    expect(fn.args.nodejs).toMatchObject({ minify: true, sourcemap: false });
    // The redirector's: routes other than redirects in chunks loaded on first use (splitting), and Fastify's
    // schema compilers left out of its bundle (the app gives Fastify none: app-base.ts).
    expect((fn.args.nodejs as Args).splitting).toBe(true);
    expect((fn.args.nodejs as Args).esbuild).toEqual({ external: ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'] });
    // Logs kept as long as the spill's dead-letter queue keeps clicks: long enough to replay the log's.
    expect(fn.args.logging).toEqual({ retention: '2 weeks' });
    expect((one('Spill').self as Queue).subscription?.subscriber.logging).toEqual({ retention: '2 weeks' });
  });

  it('gives the redirector a public URL whose CORS is left to the app', async () => {
    const { one } = await deploy();
    const url = one('Redirector').args.url as Args;
    expect(url).toBeTypeOf('object');
    expect(url.authorization ?? 'none').toBe('none');
    expect(url.cors).toBe(false);
  });

  it('links the table, the spill queue, the three secrets and Stripe\'s webhook secret, and copies the pixel beside the handler', async () => {
    const { one } = await deploy();
    const fn = one('Redirector');
    const linked = fn.args.link as object[];
    for (const name of ['Table', 'Spill', 'SyncToken', 'EmailHashKey', 'IpSaltSeed', 'StripeWebhookSecret', 'ProxySecret', 'TelegramBotToken', 'TelegramSecretToken', 'TelegramForward']) {
      expect(linked).toContain(one(name).self);
    }
    expect(fn.args.copyFiles).toContainEqual({ from: 'redirector/src/pixel/pixel.js', to: 'pixel.js' });
  });

  it('has a placeholder for Stripe\'s webhook secret, so a deploy runs without one, and a value set with sst secret set wins', async () => {
    const unset = await deploy();
    expect(resolve((unset.one('StripeWebhookSecret').self as Secret).value)).toBe('unset');
    const set = await deploy({ SST_SECRET_StripeWebhookSecret: 'whsec_0123456789' });
    expect(resolve((set.one('StripeWebhookSecret').self as Secret).value)).toBe('whsec_0123456789');
    expect((set.one('Spill').self as Queue).subscription?.subscriber.link).not.toContain(set.one('StripeWebhookSecret').self);
  });

  it('has placeholders for the Telegram secrets, linked to the redirector alone, and values set with sst secret set win', async () => {
    const unset = await deploy();
    for (const name of ['TelegramBotToken', 'TelegramSecretToken', 'TelegramForward']) expect(resolve((unset.one(name).self as Secret).value)).toBe('unset');
    const set = await deploy({ SST_SECRET_TelegramSecretToken: 'tg-secret_0123' });
    expect(resolve((set.one('TelegramSecretToken').self as Secret).value)).toBe('tg-secret_0123');
    for (const name of ['TelegramBotToken', 'TelegramSecretToken', 'TelegramForward']) {
      expect((set.one('Spill').self as Queue).subscription?.subscriber.link).not.toContain(set.one(name).self);
    }
  });

  it('has a placeholder for same-origin mode\'s proxy secret, linked to the redirector alone; a value set with sst secret set wins', async () => {
    const unset = await deploy();
    expect(resolve((unset.one('ProxySecret').self as Secret).value)).toBe('unset');
    const set = await deploy({ SST_SECRET_ProxySecret: 'proxy-secret-0123456789abcdefghijklmnop' });
    expect(resolve((set.one('ProxySecret').self as Secret).value)).toBe('proxy-secret-0123456789abcdefghijklmnop');
    expect(set.one('Redirector').args.link).toContain(set.one('ProxySecret').self);
    expect((set.one('Spill').self as Queue).subscription?.subscriber.link).not.toContain(set.one('ProxySecret').self);
  });

  it('tells the redirector its stage', async () => {
    const { one } = await deploy({}, { stage: 'staging' });
    expect(one('Redirector').args.environment).toMatchObject({ REVTRAIL_STAGE: 'staging' });
  });

  it('points at files that exist (SST fails the deploy on a missing handler or copied file)', async () => {
    const { one } = await deploy();
    const fn = one('Redirector');
    expect(handlerFileExists(fn.args.handler), String(fn.args.handler)).toBe(true);
    const replay = (one('Spill').self as Queue).subscription?.subscriber.handler;
    expect(handlerFileExists(replay), String(replay)).toBe(true);
    for (const { from } of fn.args.copyFiles as { from: string }[]) expect(existsSync(join(root, from)), from).toBe(true);
  });
});

// ---- domains and outputs ----------------------------------------------------------------------------

describe('sst.config.ts without REVTRAIL_DOMAIN', () => {
  it('serves from the function URL: no CloudFront, and the outputs name that URL', async () => {
    const { outputs, recorded, one } = await deploy();
    expect(recorded.some((r) => r.kind === 'Router')).toBe(false);
    expect((one('Redirector').args.url as Args).router).toBeUndefined();

    const base = FUNCTION_URL.replace(/\/$/, '');
    expect(outputs.url).toBe(base);
    const { src, attributes } = scriptSrc(outputs.pixel ?? '');
    expect(src).toBe(`${base}/p.js`);
    expect(attributes).toEqual(expect.arrayContaining(['async', 'data-auto-identify']));
    expect(outputs.connect).toContain(`revtrail connect redirector --url ${base}`);
    expect(outputs.cname).toBeUndefined();
  });

  it('makes no origin secret: nothing stands in front of the URL to prove', async () => {
    const { recorded, one } = await deploy();
    expect(recorded.filter((r) => r.kind === 'RandomPassword').map((r) => r.name).sort()).toEqual(['EmailHashKeyValue', 'IpSaltSeedValue', 'SyncTokenValue']);
    expect(recorded.some((r) => r.kind === 'Linkable')).toBe(false);
    expect(one('Redirector').args.link).toHaveLength(10);
  });

  it('leaves the domain-derived settings unset and applies the day defaults', async () => {
    const { one } = await deploy();
    expect(one('Redirector').args.environment).toEqual({ REVTRAIL_RETENTION_DAYS: '90', REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '30', REVTRAIL_STAGE: 'dev' });
  });
});

describe('sst.config.ts with REVTRAIL_DOMAIN', () => {
  it('puts a Router with that domain in front of the function URL', async () => {
    const { outputs, recorded, one } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' });
    const routers = recorded.filter((r) => r.kind === 'Router');
    expect(routers).toHaveLength(1);
    expect(routers[0]?.args.domain).toBe('go.brand.com'); // Route 53 DNS and certificate, SST's default
    expect((one('Redirector').args.url as Args).router).toEqual({ instance: routers[0]?.self });

    expect(outputs.url).toBe('https://go.brand.com');
    expect(scriptSrc(outputs.pixel ?? '').src).toBe('https://go.brand.com/p.js');
    expect(outputs.connect).toContain('--url https://go.brand.com');
  });

  it('derives the public URL, the cookie domain and the allowed origins from the domain', async () => {
    const { one } = await deploy({ REVTRAIL_DOMAIN: 'Go.Brand.co.uk' });
    expect(one('Redirector').args.environment).toEqual({
      REVTRAIL_PUBLIC_URL: 'https://go.brand.co.uk',
      REVTRAIL_COOKIE_DOMAIN: 'brand.co.uk',
      REVTRAIL_ALLOWED_ORIGINS: 'https://brand.co.uk,https://www.brand.co.uk',
      REVTRAIL_RETENTION_DAYS: '90',
      REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '30',
      REVTRAIL_STAGE: 'dev',
    });
  });

  it('takes explicit settings over derived ones and passes the optional fallback URL', async () => {
    const { one } = await deploy({
      REVTRAIL_DOMAIN: 'go.brand.com',
      REVTRAIL_COOKIE_DOMAIN: 'go.brand.com',
      REVTRAIL_ALLOWED_ORIGINS: 'https://shop.brand.com',
      REVTRAIL_RETENTION_DAYS: '180',
      REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '7',
      REVTRAIL_FALLBACK_URL: 'https://brand.com/',
    });
    const environment = one('Redirector').args.environment as Record<string, string>;
    expect(environment).toMatchObject({
      REVTRAIL_COOKIE_DOMAIN: 'go.brand.com',
      REVTRAIL_ALLOWED_ORIGINS: 'https://shop.brand.com',
      REVTRAIL_RETENTION_DAYS: '180',
      REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '7',
      REVTRAIL_FALLBACK_URL: 'https://brand.com/',
    });
    for (const value of Object.values(environment)) expect(value).toBeTypeOf('string'); // Lambda takes strings only
  });

  it('proves CloudFront to the function: the Router sets a generated secret header that only the function also holds', async () => {
    const { one } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' });
    const password = one('OriginSecretValue');
    expect(password.kind).toBe('RandomPassword');
    expect(password.args).toMatchObject({ special: false }); // a plain header value
    const secret = resolve((password.self as RandomPassword).result) as string;
    const accepted = parseConfig({
      REVTRAIL_TABLE: 'revtrail',
      REVTRAIL_SYNC_TOKEN: 'a'.repeat(40),
      REVTRAIL_EMAIL_HASH_KEY: 'b'.repeat(40),
      REVTRAIL_IP_SALT_SEED: 'c'.repeat(40),
      REVTRAIL_ORIGIN_SECRET: secret,
    });
    expect(accepted.ok && accepted.config.originSecret).toBe(secret); // long enough for config.ts

    const link = one('OriginSecret');
    expect(link.kind).toBe('Linkable');
    expect(resolve(link.args)).toEqual({ properties: { value: secret } }); // Resource.OriginSecret.value in config.ts
    expect(one('Redirector').args.link).toContain(link.self);

    // The injection run as CloudFront would, on a viewer request that brings its own forged proof.
    expect(config.ORIGIN_PROOF_HEADER).toBe(ORIGIN_PROOF_HEADER);
    const injection = resolve((one('Router').args.edge as { viewerRequest: { injection: unknown } }).viewerRequest.injection);
    const event = {
      request: { headers: { host: { value: 'go.brand.com' }, [ORIGIN_PROOF_HEADER]: { value: 'forged', multiValue: [{ value: 'forged' }, { value: 'x' }] } } },
    };
    runInNewContext(String(injection), { event });
    expect(event.request.headers).toEqual({ host: { value: 'go.brand.com' }, [ORIGIN_PROOF_HEADER]: { value: secret } });
  });

  it('with REVTRAIL_CERT_ARN: DNS stays with the deployer, who gets the CNAME target as an output', async () => {
    const cert = 'arn:aws:acm:us-east-1:111111111111:certificate/0f0f0f0f-1111-2222-3333-444444444444';
    const { outputs, one } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_CERT_ARN: cert });
    expect(one('Router').args.domain).toEqual({ name: 'go.brand.com', dns: false, cert });
    expect(resolve(one('Router').args.edge)).toEqual({ viewerRequest: { injection: expect.stringContaining(ORIGIN_PROOF_HEADER) } });
    expect(outputs.cname).toBe('d111111abcdef8.cloudfront.net');
  });

  it.each([
    [{ REVTRAIL_DOMAIN: 'https://go.brand.com' }, /REVTRAIL_DOMAIN must be a host name/],
    [{ REVTRAIL_DOMAIN: 'go.brand.com/r' }, /REVTRAIL_DOMAIN must be a host name/],
    [{ REVTRAIL_DOMAIN: 'co.uk' }, /registry suffix/],
    [{ REVTRAIL_RETENTION_DAYS: 'ninety' }, /REVTRAIL_RETENTION_DAYS must be a whole number/],
    [{ REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '0' }, /REVTRAIL_ATTRIBUTION_WINDOW_DAYS must be a whole number/],
  ])('refuses to deploy %o', async (env, message) => {
    await expect(deploy(env)).rejects.toThrow(message);
  });
  it('puts Router errors out of CloudFront\'s cache: an error-caching TTL of 0 for every code it would cache', async () => {
    const { one } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' });
    const cdn = (one('Router').args.transform as { cdn: Args }).cdn;
    // An object transform is merged into the CdnArgs SST builds (component.ts transform()).
    expect(cdn).toEqual({
      customErrorResponses: [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504].map((errorCode) => ({ errorCode, errorCachingMinTtl: 0 })),
    });
  });

  it('with REVTRAIL_DNS_OVERRIDE=1 replaces an existing Route 53 record for the domain instead of failing on it', async () => {
    const { one } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_DNS_OVERRIDE: '1' });
    expect(one('Router').args.domain).toEqual({ name: 'go.brand.com', dns: { provider: 'aws', override: true } });
    // A one-deploy switch, never recorded with the stage's settings.
    const again = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' });
    expect(again.one('Router').args.domain).toBe('go.brand.com');
  });
});

// ---- settings kept with the stage -----------------------------------------------------------------------

describe('sst.config.ts settings, kept with the stage', () => {
  const parameter = (account: Map<string, string>, stage: string) => JSON.parse(account.get(config.settingsParameter(stage)) ?? 'null') as Record<string, string> | null;

  it('records every deploy\'s settings in SSM (no secret among them), after the functions and the Router took them', async () => {
    const { one, account } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_FALLBACK_URL: 'https://brand.com/', SST_SECRET_SyncToken: 'x'.repeat(40) }, { stage: 'prod' });
    expect(config.settingsParameter('prod')).toBe('/revtrail/prod/settings');
    expect(parameter(account, 'prod')).toEqual({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_FALLBACK_URL: 'https://brand.com/' });
    const record = one('Settings');
    expect(record.args).toMatchObject({ name: '/revtrail/prod/settings', type: 'String', overwrite: true });
    expect(record.opts?.dependsOn).toEqual([one('Redirector').self, one('Router').self]);
  });

  it('deploys from another machine or CI, with no settings in its environment, what the stage has', async () => {
    const first = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_COOKIE_DOMAIN: 'brand.com', REVTRAIL_RETENTION_DAYS: '180' }, { stage: 'prod' });
    const again = await deploy({}, { stage: 'prod', account: first.account });
    expect(again.one('Router').args.domain).toBe('go.brand.com');
    expect(again.one('Redirector').args.environment).toEqual(first.one('Redirector').args.environment);
    expect(again.outputs.url).toBe('https://go.brand.com');
  });

  it('takes a setting the environment gives over the recorded one, and an empty one as unset', async () => {
    const first = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_FALLBACK_URL: 'https://brand.com/', REVTRAIL_RETENTION_DAYS: '180' }, { stage: 'prod' });
    const next = await deploy({ REVTRAIL_FALLBACK_URL: '', REVTRAIL_RETENTION_DAYS: '30' }, { stage: 'prod', account: first.account });
    const environment = next.one('Redirector').args.environment as Record<string, string>;
    expect(environment.REVTRAIL_FALLBACK_URL).toBeUndefined();
    expect(environment.REVTRAIL_RETENTION_DAYS).toBe('30');
    expect(parameter(next.account, 'prod')).toEqual({ REVTRAIL_DOMAIN: 'go.brand.com', REVTRAIL_RETENTION_DAYS: '30' });
  });

  it('refuses a prod deploy with no settings at all: it may be a stage with a domain deployed before settings were recorded', async () => {
    await expect(deploy({}, { stage: 'prod' })).rejects.toThrow(/Refusing to deploy stage prod: no settings are recorded for it and REVTRAIL_DOMAIN is not set[\s\S]*REVTRAIL_DOMAIN=none/);
    const none = await deploy({ REVTRAIL_DOMAIN: 'none' }, { stage: 'prod' });
    expect(none.recorded.some((r) => r.kind === 'Router')).toBe(false);
    expect(parameter(none.account, 'prod')).toEqual({ REVTRAIL_DOMAIN: 'none' });
    // Other stages may start without a domain.
    expect((await deploy({}, { stage: 'dev' })).recorded.some((r) => r.kind === 'Router')).toBe(false);
  });

  it.each([
    [{ REVTRAIL_DOMAIN: '' }, /would remove the tracking domain go\.brand\.com/],
    [{ REVTRAIL_DOMAIN: 'none' }, /would remove the tracking domain go\.brand\.com/],
    [{ REVTRAIL_DOMAIN: 't.brand.com' }, /would move the tracking domain from go\.brand\.com to t\.brand\.com/],
    [{ REVTRAIL_COOKIE_DOMAIN: 'go.brand.com' }, /would change the visitor cookie's domain from brand\.com to go\.brand\.com/],
    [{ REVTRAIL_DOMAIN: 'go.brand.co.uk' }, /would move the tracking domain[\s\S]*cookie's domain from brand\.com to brand\.co\.uk/],
  ])('refuses a prod deploy with %o over a recorded go.brand.com, unless REVTRAIL_CHANGE_DOMAIN=1', async (env, message) => {
    const { account } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' }, { stage: 'prod' });
    const before = new Map(account);
    const refusal = await deploy(env, { stage: 'prod', account }).then(() => '', (e: Error) => e.message);
    expect(refusal).toMatch(message);
    // Where the settings live and how to mean it, in the message.
    expect(refusal).toContain('SSM parameter /revtrail/prod/settings');
    expect(refusal).toContain('deploy again with REVTRAIL_CHANGE_DOMAIN=1');
    expect(account).toEqual(before); // refused before anything was asked for, the record too
    const meant = await deploy({ ...env, REVTRAIL_CHANGE_DOMAIN: '1' }, { stage: 'prod', account });
    expect(meant.account.get('/revtrail/prod/settings')).not.toBe(before.get('/revtrail/prod/settings'));
    // The same change on another stage needs no flag.
    const dev = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' }, { stage: 'dev' });
    await expect(deploy(env, { stage: 'dev', account: dev.account })).resolves.toBeTruthy();
  });

  it('refuses a record it cannot read rather than guessing what the stage has', async () => {
    const account = new Map([['/revtrail/prod/settings', '{"REVTRAIL_DOMAIN": 7}']]);
    await expect(deploy({}, { stage: 'prod', account })).rejects.toThrow(/settings record \/revtrail\/prod\/settings is not an object of strings/);
  });
});

// ---- regions ----------------------------------------------------------------------------------------------

describe('sst.config.ts regions', () => {
  it('lists the 11 regions AWS documents without function URLs', () => {
    expect(Object.keys(config.NO_FUNCTION_URLS).sort()).toEqual(
      ['ap-east-2', 'ap-south-2', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-2', 'il-central-1', 'me-central-1'],
    );
    // Each suggestion is a region of its own that is not in the list.
    for (const { nearby } of Object.values(config.NO_FUNCTION_URLS)) {
      for (const region of nearby.map((n) => n.split(' ')[0]!)) {
        expect(region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
        expect(config.NO_FUNCTION_URLS[region]).toBeUndefined();
      }
    }
  });

  it.each(['eu-central-2', 'il-central-1', 'ap-southeast-7'])('refuses %s before asking for anything, naming nearby regions that have function URLs', async (region) => {
    const { nearby } = config.NO_FUNCTION_URLS[region]!;
    const refused = deploy({ SST_AWS_REGION: region });
    await expect(refused).rejects.toThrow(new RegExp(`Refusing to deploy to ${region} .*no function URLs there`));
    await expect(deploy({ SST_AWS_REGION: region })).rejects.toThrow(nearby.join(', '));
    expect(recorded).toEqual([]);
  });

  it('deploys to a region that has them', async () => {
    for (const region of ['eu-central-1', 'us-east-1', 'ap-southeast-2']) await expect(deploy({ SST_AWS_REGION: region })).resolves.toBeTruthy();
  });
});

// ---- least privilege ----------------------------------------------------------------------------------------

describe('sst.config.ts permissions', () => {
  const TABLE = 'arn:aws:dynamodb:eu-west-1:111111111111:table/revtrail-prod-TableTable-abc123';
  const LOGS = { actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: ['*'] };

  it('lists each function\'s policy: the actions its code calls on the resources it uses, no wildcard action', async () => {
    const { one } = await deploy({ REVTRAIL_DOMAIN: 'go.brand.com' });
    const subscriber = (one('Spill').self as Queue).subscription!.subscriber;
    const policies = {
      Redirector: policyOf(one('Redirector').args),
      // SST adds the actions the subscription's trigger needs on the queue it reads.
      Replay: policyOf(subscriber, [
        { actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], resources: [(one('Spill').self as Queue).arn] },
      ]),
    };
    expect(policies).toEqual({
      Redirector: [
        {
          actions: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
            'dynamodb:BatchGetItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:DescribeTable',
          ],
          resources: [TABLE, `${TABLE}/index/byVisitorKeys`, `${TABLE}/index/byEmail`],
        },
        { actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:eu-west-1:111111111111:revtrail-prod-Spill'] },
        LOGS,
      ],
      Replay: [
        {
          actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
          resources: ['arn:aws:sqs:eu-west-1:111111111111:revtrail-prod-Spill'],
        },
        {
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
          resources: [TABLE, `${TABLE}/index/byVisitorKeys`],
        },
        LOGS,
      ],
    });
    for (const [fn, statements] of Object.entries(policies)) {
      for (const action of statements.flatMap((s) => s.actions)) expect(action, fn).not.toContain('*');
    }
  });

  it('links the table and the queue for their name and URL only: SST\'s own links would grant dynamodb:* and sqs:*', async () => {
    const { one } = await deploy();
    for (const name of ['Table', 'Spill']) expect((one(name).self as { getSSTLink(): LinkDefinition }).getSSTLink().include ?? []).toEqual([]);
    expect((one('Table').self as Dynamo).getSSTLink().properties).toEqual({ name: (one('Table').self as Dynamo).name });
    expect((one('Spill').self as Queue).getSSTLink().properties).toEqual({ url: (one('Spill').self as Queue).url });
  });
});

// ---- operations -------------------------------------------------------------------------------------------

describe('sst.config.ts alarms', () => {
  it('alarms on clicks in the dead-letter queue, on throttled redirects, and on clicks kept only in the log', async () => {
    const { one, recorded } = await deploy();
    const alarms = recorded.filter((r) => r.kind === 'cloudwatch.MetricAlarm');
    expect(alarms.map((a) => a.name).sort()).toEqual(['EventsKeptInLogAlarm', 'RedirectorThrottlesAlarm', 'SpillDeadLetterAlarm']);
    const alarm = (name: string) => resolve(one(name).args) as Args;
    expect(alarm('SpillDeadLetterAlarm')).toMatchObject({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'revtrail-prod-SpillDeadLetter' },
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
    });
    expect(alarm('RedirectorThrottlesAlarm')).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: { FunctionName: 'revtrail-prod-RedirectorFunction-abcdef' }, statistic: 'Sum' });
    // The filter counts the redirector's last-resort log lines (recorder.ts), in its own log group.
    expect(config.SPILL_LOG_MESSAGE).toBe(SPILL_LOG_MESSAGE);
    const filter = resolve(one('EventsKeptInLogFilter').args) as { logGroupName: string; pattern: string; metricTransformation: Args };
    expect(filter.logGroupName).toBe('/aws/lambda/revtrail-prod-RedirectorFunction-abcdef');
    expect(filter.pattern).toBe(JSON.stringify(SPILL_LOG_MESSAGE));
    expect(alarm('EventsKeptInLogAlarm')).toMatchObject({ metricName: filter.metricTransformation.name, namespace: filter.metricTransformation.namespace });
    // Without an address they show in the console only.
    for (const a of alarms) expect(a.args.alarmActions).toBeUndefined();
    expect(recorded.some((r) => r.kind.startsWith('sns.'))).toBe(false);
  });

  it('mails the alarms to REVTRAIL_ALARM_EMAIL', async () => {
    const { one, recorded } = await deploy({ REVTRAIL_ALARM_EMAIL: 'ops@brand.com' });
    const topic = (one('Alarms').self as { arn: FakeOutput }).arn;
    expect(resolve(one('AlarmsEmail').args)).toEqual({ topic: resolve(topic), protocol: 'email', endpoint: 'ops@brand.com' });
    for (const a of recorded.filter((r) => r.kind === 'cloudwatch.MetricAlarm')) {
      expect(resolve(a.args.alarmActions)).toEqual([resolve(topic)]);
      expect(resolve(a.args.okActions)).toEqual([resolve(topic)]);
    }
  });
});

describe('apexDomain', () => {
  it.each([
    ['go.brand.com', 'brand.com'],
    ['brand.com', 'brand.com'],
    ['t.eu.brand.io', 'brand.io'],
    ['go.brand.co.uk', 'brand.co.uk'],
    ['brand.co.uk', 'brand.co.uk'],
    ['go.brand.com.au', 'brand.com.au'],
    ['go.brand.co', 'brand.co'],
    ['go.brand.de', 'brand.de'],
  ])('%s -> %s', (host, apex) => {
    expect(config.apexDomain(host)).toBe(apex);
  });
});

// ---- the npm scripts around sst ---------------------------------------------------------------------

describe('deploy scripts', () => {
  function fakeSst(dir: string, script: string): string {
    const fake = join(dir, 'sst');
    writeFileSync(fake, `#!/bin/sh\n${script}\n`);
    chmodSync(fake, 0o755);
    return fake;
  }

  it('npm run deploy -- --stage prod, from the repo root, reaches `sst deploy --stage prod` at the root with telemetry off', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-sst-'));
    try {
      const seen = join(dir, 'seen.txt');
      // A failed deploy: the wrapper stops there, before reading any outputs.
      const fake = fakeSst(dir, `printf '%s\\n' "$PWD" "$SST_TELEMETRY_DISABLED" "$@" > "${seen}"; exit 3`);
      // node_modules/sst/bin/sst.mjs runs SST_BIN_PATH instead of the platform binary when it is set.
      const r = spawnSync('npm', ['run', 'deploy', '--', '--stage', 'prod'], {
        cwd: root,
        env: { ...process.env, SST_BIN_PATH: fake, npm_config_update_notifier: 'false' },
        stdio: 'pipe',
      });
      expect(r.status).not.toBe(0);
      const [cwd, telemetry, ...args] = readFileSync(seen, 'utf8').trimEnd().split('\n');
      expect(realpathSync(cwd ?? '')).toBe(root.replace(/\/$/, ''));
      expect(telemetry).toBe('1');
      expect(args).toEqual(['deploy', '--stage', 'prod']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connects the desktop with the generated token on the first deploy, shows the token that once, and never again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-'));
    const token = 'generated-sync-token-0123456789abcdefghijklmn';
    const local = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: token } });
    try {
      const project = join(dir, 'project');
      mkdirSync(project);
      const calls = join(dir, 'calls.txt');
      // sst deploy writes .sst/outputs.json as SST does; sst shell runs the command with the stage's linked values.
      const fake = fakeSst(
        dir,
        `echo "$1 $3" >> "${calls}"\n` +
          `case "$1" in\n` +
          `  deploy) mkdir -p .sst && printf '{"url":"${local.url}","pixel":"<script>","connect":"revtrail connect"}' > .sst/outputs.json ;;\n` +
          `  shell) while [ "$1" != "--" ]; do shift; done; shift; SST_RESOURCE_SyncToken='{"value":"${token}"}' exec "$@" ;;\n` +
          `esac`,
      );
      const env = { ...process.env, SST_BIN_PATH: fake, REVTRAIL_HOME: join(dir, 'desktop'), REVTRAIL_SECRETS: 'file', REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' };
      const script = pathToFileURL(join(root, 'redirector/scripts/deploy.ts')).href;
      // Asynchronously: the redirector answering the desktop runs in this process.
      const run = () =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
          const code = `import(${JSON.stringify(script)}).then((m) => { process.exitCode = m.deploy(['--stage', 'prod'], ${JSON.stringify(project)}); })`;
          const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: root, env });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('close', (status) => done({ status, stdout, stderr }));
        });

      const first = await run();
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(first.stdout).toContain(`Connected "127.0.0.1" to ${local.url}`);
      expect(first.stdout.split(token)).toHaveLength(2); // printed exactly once
      expect(readFileSync(calls, 'utf8')).toBe('deploy prod\nshell prod\n');
      const list = spawnSync(process.execPath, [join(root, 'desktop/bin/revtrail.mjs'), 'workspace', 'list'], { env, encoding: 'utf8' });
      expect(list.stdout).toContain(local.url);

      const again = await run();
      expect(again.status).toBe(0);
      expect(again.stdout).not.toContain(token);
      expect(again.stdout).toContain("Stage prod's sync token went to the desktop on this machine");
      expect(readFileSync(calls, 'utf8')).toBe('deploy prod\nshell prod\ndeploy prod\n'); // no second sst shell
    } finally {
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('every redirector script that runs sst turns its telemetry off', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'redirector/package.json'), 'utf8')) as { scripts: Record<string, string> };
    const runs = Object.entries(pkg.scripts).flatMap(([name, cmd]) =>
      // Each `sst` command with the variable assignments in front of it.
      [...cmd.matchAll(/(?:^|&&|\|\||;)\s*((?:\w+=\S*\s+)*)sst(?=\s|$)/g)].map((m) => ({ name, env: m[1] ?? '' })),
    );
    expect(runs.map((r) => r.name)).toContain('sst');
    for (const { name, env } of runs) expect(env, name).toMatch(/(^|\s)SST_TELEMETRY_DISABLED=1\s/);
    expect(readFileSync(join(root, 'redirector/scripts/deploy.ts'), 'utf8')).toContain("SST_TELEMETRY_DISABLED: '1'");
  });
});
