/**
 * The Lambda as it ships: src/lambda.ts and src/replay.ts built as `sst deploy` builds them
 * (scripts/sst-build.ts, from sst.config.ts's own settings), each run by a plain `node` in its bundle's root
 * as Lambda runs it (test/lambda-host.mjs), with its links in resource.enc. The events are function URL
 * events (payload 2.0) in the shapes AWS sends them: through the Router's CloudFront (viewer headers, the
 * origin proof, CloudFront's address as the source) or straight to the URL. DynamoDB is dynalite behind
 * a proxy that notes each operation; SQS an endpoint that can be slow or hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaResponse } from '@fastify/aws-lambda';
import type { StripeHint } from '@revtrail/shared';
import { spilledRecords } from '../src/replay';
import { eventsOfLogLine, replayLogLines } from '../src/replay-log';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../src/store/embedded';
import { shippedConfig, sstBuild, stopBundler, writeLinks, type ShippedConfig, type SstBundle } from '../scripts/sst-build';
import { fakeSqs, slowProxy, type FakeSqs } from './aws-fakes';
import type { EventRecord } from '../src/store/types';
import { body, charge, deliveryHeaders, OTHER_SECRET, stripeEvent, WEBHOOK_SECRET } from './stripe-events';
import { CHROME_UA } from './support';
import { queryStringParameters, type EventInput } from './lambda-events';

const HOST = fileURLToPath(new URL('./lambda-host.mjs', import.meta.url));
const TABLE = 'revtrail-test-Table';
const TOKEN = 'bundle-sync-token-0123456789abcdefghijklmn';
const ORIGIN_SECRET = 'bundle-origin-secret-0123456789abcdefghijk';
const DOMAIN = 'go.brand.com';
const URL_HOST = 'a1b2c3d4e5f6g7h8i9j0kxmpl.lambda-url.eu-west-1.on.aws';
const EDGE_IP = '130.176.98.10'; // a CloudFront edge address: what the function URL sees as the caller

type Response = LambdaResponse & { cookies?: string[] };

/** One function instance: a `node` running the built handler file from the bundle's root. */
class Instance {
  readonly log: string[] = [];
  private readonly pending = new Map<string, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  startup: { modulesLoadedMs: number; readyMs: number } | null = null;
  importedMs = 0;

  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => this.log.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (m: { type: string; id?: string; ok?: boolean; result?: Response; error?: string }) => {
      if (m.type !== 'result' || !m.id) return;
      const waiting = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) waiting?.resolve(m.result!);
      else waiting?.reject(new Error(`the handler threw: ${m.error}`));
    });
  }

  static start(bundle: SstBundle, env: Record<string, string>): Promise<Instance> {
    const [file, exportName] = [bundle.file, bundle.handler.slice(bundle.handler.lastIndexOf('.') + 1)];
    const child = spawn(process.execPath, [HOST, file, exportName], { cwd: bundle.dir, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const instance = new Instance(child);
    return new Promise((resolve, reject) => {
      child.once('message', (m: { type: string; error?: string; importedMs?: number; startup?: Instance['startup'] }) => {
        if (m.type !== 'ready') return reject(new Error(`the function did not start: ${m.error}\n${instance.log.join('\n')}`));
        instance.startup = m.startup ?? null;
        instance.importedMs = m.importedMs ?? 0;
        resolve(instance);
      });
      child.once('exit', (code) => reject(new Error(`the function exited with ${code} before it started:\n${instance.log.join('\n')}`)));
    });
  }

  invoke(event: unknown): Promise<Response> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, event });
    });
  }

  stop(): void {
    this.child.kill();
  }
}

/**
 * A function URL event as Lambda builds it: headers lowercased, cookies in their own array, the query both
 * raw and as queryStringParameters (repeated keys comma-joined), the caller's address in sourceIp.
 */
function functionUrlEvent(over: EventInput, sourceIp: string, headers: Record<string, string>) {
  const query = over.query ?? '';
  const joined = queryStringParameters(query);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: over.path,
    rawQueryString: query,
    ...(over.cookies ? { cookies: over.cookies } : {}),
    headers: { host: URL_HOST, 'x-amzn-trace-id': `Root=1-${Date.now().toString(16)}-abcdef012345678901234567`, 'x-forwarded-port': '443', 'x-forwarded-proto': 'https', ...headers, ...over.headers },
    ...(joined ? { queryStringParameters: joined } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'a1b2c3d4e5f6g7h8i9j0kxmpl',
      domainName: URL_HOST,
      domainPrefix: 'a1b2c3d4e5f6g7h8i9j0kxmpl',
      http: { method: over.method ?? 'GET', path: over.path, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? CHROME_UA },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '04/Dec/2026:18:00:00 +0000',
      timeEpoch: Date.now(),
      authentication: null,
      authorizer: null,
    },
    ...(over.body !== undefined ? { body: over.base64 ? Buffer.from(over.body).toString('base64') : over.body } : {}),
    isBase64Encoded: over.base64 ?? false,
    pathParameters: null,
    stageVariables: null,
  };
}

/**
 * Through the Router: CloudFront passes the viewer's headers but Host (AllViewerExceptHostHeader), adds its
 * viewer headers, and SST's viewer-request function the viewer's host and our origin proof.
 */
function viaCloudFront(over: EventInput, viewer = { ip: '198.51.100.23', country: 'JP' }) {
  return functionUrlEvent(over, EDGE_IP, {
    'user-agent': CHROME_UA,
    accept: 'text/html,application/xhtml+xml',
    'accept-encoding': 'gzip, deflate, br',
    via: '2.0 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)',
    'x-amz-cf-id': 'Zr3Q1xmplCxsBQ3x2Av7KZcUm8dOmPMmmTn1hYwcNh_sLkAkDGXiww==',
    'x-forwarded-for': `${viewer.ip}, ${EDGE_IP}`,
    'cloudfront-viewer-address': `${viewer.ip}:53412`,
    'cloudfront-viewer-country': viewer.country,
    'cloudfront-is-desktop-viewer': 'true',
    'x-forwarded-host': DOMAIN,
    'x-revtrail-origin-proof': ORIGIN_SECRET,
  });
}

/** Straight to the function URL (anyone can): the caller's own address, and whatever headers it chose. */
function direct(over: EventInput, ip = '203.0.113.50') {
  return functionUrlEvent(over, ip, { 'user-agent': CHROME_UA, 'x-forwarded-for': ip });
}

/** What `read` returns once it is not empty, or after 3 s its last (empty) value. */
async function eventually<T>(read: () => T[]): Promise<T[]> {
  for (let waited = 0; ; waited += 20) {
    const value = read();
    if (value.length > 0 || waited >= 3000) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The utm_content of a click record (the slow-store cases tell their clicks apart by it). */
const content = (r: EventRecord) => (r.kind === 'clicks' ? r.item.utm.utm_content : undefined);

const auth = { authorization: `Bearer ${TOKEN}` };
const json = (res: Response) => JSON.parse(res.body) as Record<string, unknown>;
const cookieOf = (res: Response) => (res.cookies ?? []).find((c) => c.startsWith('rt_vid=')) ?? '';

let config: ShippedConfig;
let work: string;
let dynamo: EmbeddedDynamo;
let table: DynamoStore;
let redirectorDb: Awaited<ReturnType<typeof slowProxy>>;
let replayDb: Awaited<ReturnType<typeof slowProxy>>;
let sqs: FakeSqs;
let redirectorBundle: SstBundle;
let replayBundle: SstBundle;
let redirectorEnv: Record<string, string>;
let replayEnv: Record<string, string>;
const instances: Instance[] = [];
let fn: Instance;

const start = async (bundle: SstBundle, env: Record<string, string>) => {
  const instance = await Instance.start(bundle, env);
  instances.push(instance);
  return instance;
};

/** The clicks feed read through the function, as the desktop reads it. */
async function clicksSince(cursor: string | null): Promise<{ items: Record<string, unknown>[]; cursor: string }> {
  await new Promise((r) => setTimeout(r, 2));
  const res = await fn.invoke(viaCloudFront({ path: '/api/v1/clicks', query: `limit=1000${cursor ? `&cursor=${cursor}` : ''}`, headers: auth }));
  expect(res.statusCode).toBe(200);
  const body = json(res) as { items: Record<string, unknown>[]; cursor: string };
  return body;
}

beforeAll(async () => {
  config = await shippedConfig();
  work = mkdtempSync(join(tmpdir(), 'revtrail-lambda-bundle-'));
  dynamo = await startEmbeddedDynamo();
  table = new DynamoStore({ tableName: TABLE, retentionDays: 90, client: dynamo.client() });
  await table.ensureTable(Date.now());
  redirectorDb = await slowProxy(dynamo.port);
  replayDb = await slowProxy(dynamo.port);
  sqs = await fakeSqs();

  redirectorBundle = await sstBuild({
    handler: config.REDIRECTOR_FUNCTION.handler,
    outDir: join(work, 'redirector'),
    nodejs: config.REDIRECTOR_FUNCTION.nodejs ?? config.LAMBDA.nodejs, // sst.config.ts spreads it after LAMBDA's
    copyFiles: config.REDIRECTOR_FUNCTION.copyFiles,
  });
  replayBundle = await sstBuild({ handler: config.REPLAY_FUNCTION.handler, outDir: join(work, 'replay'), nodejs: config.LAMBDA.nodejs });

  const app = { name: 'revtrail', stage: 'test' };
  const aws = { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', TZ: 'UTC' };
  const environment = config.redirectorEnvironment({ REVTRAIL_DOMAIN: DOMAIN });
  // The links sst.config.ts gives each function, with the values SST would put in resource.enc.
  redirectorEnv = {
    ...aws,
    ...environment,
    REVTRAIL_STAGE: 'test',
    ...writeLinks(
      redirectorBundle.dir,
      {
        Table: { name: TABLE, type: 'sst.aws.Dynamo' },
        Spill: { url: `${sqs.url}/123456789012/revtrail-test-Spill`, type: 'sst.aws.Queue' },
        SyncToken: { value: TOKEN, type: 'sst.sst.Secret' },
        EmailHashKey: { value: 'bundle-email-key-0123456789abcdefghijklmn', type: 'sst.sst.Secret' },
        IpSaltSeed: { value: 'bundle-ip-seed-0123456789abcdefghijklmnop', type: 'sst.sst.Secret' },
        StripeWebhookSecret: { value: WEBHOOK_SECRET, type: 'sst.sst.Secret' },
        OriginSecret: { value: ORIGIN_SECRET, type: 'sst.sst.Linkable' },
      },
      app,
    ),
    AWS_LAMBDA_FUNCTION_NAME: 'revtrail-test-RedirectorFunction',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${redirectorDb.port}`,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    REVTRAIL_FEED_SETTLE_MS: '0',
    // This instance's writes must land in the table on a busy test machine; the slow-store cases start one
    // with the shipped budget.
    REVTRAIL_CLICK_WRITE_BUDGET_MS: '3000',
  };
  replayEnv = {
    ...aws,
    ...environment,
    ...writeLinks(replayBundle.dir, { Table: { name: TABLE, type: 'sst.aws.Dynamo' } }, app),
    AWS_LAMBDA_FUNCTION_NAME: 'revtrail-test-SpillSubscriber',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${replayDb.port}`,
  };
  fn = await start(redirectorBundle, redirectorEnv);
}, 120_000);

afterAll(async () => {
  for (const instance of instances) instance.stop();
  await stopBundler();
  await Promise.all([redirectorDb?.close(), replayDb?.close(), sqs?.close()]);
  await dynamo?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the bundle sst deploy builds', () => {
  it('is minified ESM at the handler path and chunks beside it, the AWS SDK inside, no source map, pixel.js and the links beside it', () => {
    expect(redirectorBundle.handler).toBe('redirector/src/lambda.handler');
    expect(redirectorBundle.file).toBe(join(redirectorBundle.dir, 'redirector/src/lambda.mjs'));
    const files = readdirSync(join(redirectorBundle.dir, 'redirector/src'));
    expect(files).toContain('lambda.mjs');
    expect(files.filter((f) => !f.endsWith('.mjs'))).toEqual([]);
    expect(redirectorBundle.files.map((f) => f.path).sort()).toEqual(files.map((f) => join(redirectorBundle.dir, 'redirector/src', f)).sort());
    const start = redirectorBundle.startFiles.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const f of redirectorBundle.files) {
      const code = readFileSync(f.path, 'utf8');
      expect(code.startsWith("import { createRequire as topLevelCreateRequire } from 'module';"), f.path).toBe(true);
      expect(code, f.path).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(code, f.path).not.toContain('sourceMappingURL');
    }
    expect(start).toContain('DynamoDBClient');
    // Fastify's schema compilers are left out (app-base.ts gives it none, sst.config.ts makes them external):
    // fastify's require of one is there (in its chunk), never reached; ajv's own code (its draft 2020 keywords) is not.
    expect(redirectorBundle.files.some((f) => readFileSync(f.path, 'utf8').includes('"@fastify/ajv-compiler"'))).toBe(true);
    expect(redirectorBundle.files.some((f) => readFileSync(f.path, 'utf8').includes('$dynamicAnchor'))).toBe(false);
    for (const file of ['pixel.js', 'resource.enc']) expect(existsSync(join(redirectorBundle.dir, file)), file).toBe(true);
    // Nothing to resolve at run time: the bundle's root has no node_modules, as a Lambda zip has none.
    expect(existsSync(join(redirectorBundle.dir, 'node_modules'))).toBe(false);
  });

  it('loads the direct redirect path at the start; Fastify, every route and the SQS client in chunks, on their first use', () => {
    const holding = (text: string) => redirectorBundle.files.filter((f) => readFileSync(f.path, 'utf8').includes(text)).map((f) => f.path);
    // Function names survive minification (keepNames, as SST builds). Fastify's and light-my-request's code by
    // strings of their own (an error code, the injected User-Agent).
    const lazy = [
      '"registerSyncRoutes"', '"registerCollectRoutes"', '"registerStripeWebhookRoute"', '"registerTelegramWebhookRoute"', '"registerOptoutRoutes"',
      '"registerSameOriginRoutes"', '"registerTrackRoutes"', '"registerPublicRoutes"', '"buildRedirectApp"', '"SqsSpill"', 'FST_ERR_DEC_ALREADY_PRESENT', 'lightMyRequest',
    ];
    for (const text of lazy) {
      expect(holding(text), text).not.toEqual([]);
      for (const file of holding(text)) expect(redirectorBundle.startFiles, `${text} in ${file}`).not.toContain(file);
    }
    for (const name of ['directRedirect', 'answerRedirect', 'DynamoStore']) {
      expect(holding(`"${name}"`).some((f) => redirectorBundle.startFiles.includes(f)), name).toBe(true);
    }
  });

  it('builds the app while the instance starts, before the first event', () => {
    expect(fn.startup).not.toBeNull();
    expect(fn.startup!.readyMs).toBeGreaterThan(fn.startup!.modulesLoadedMs);
    expect(fn.startup!.readyMs).toBeLessThanOrEqual(fn.importedMs);
  });
});

describe('the built redirector, driven with function URL events', () => {
  it('serves the sync API through CloudFront: links, status, settings, keys', async () => {
    const put = await fn.invoke(
      viaCloudFront({
        method: 'PUT',
        path: '/api/v1/links/spring',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Newsletter', utm: { utm_source: 'nl' } }),
      }),
    );
    expect(put.statusCode).toBe(201);
    const links = await fn.invoke(viaCloudFront({ path: '/api/v1/links', headers: auth }));
    expect((json(links).items as { slug: string }[]).map((l) => l.slug)).toEqual(['spring']);
    expect((await fn.invoke(viaCloudFront({ path: '/api/v1/links/spring', headers: auth }))).statusCode).toBe(200);
    const status = json(await fn.invoke(viaCloudFront({ path: '/api/v1/status', headers: auth })));
    expect(status).toMatchObject({ store: 'up', publicUrl: `https://${DOMAIN}/`, cookieDomain: 'brand.com', health: { status: 'ok' } });
    const settings = await fn.invoke(viaCloudFront({ method: 'PUT', path: '/api/v1/settings', headers: { ...auth, 'content-type': 'application/json' }, body: '{"retentionDays":120}' }));
    expect(json(settings)).toMatchObject({ retentionDays: 120 });
    expect(json(await fn.invoke(viaCloudFront({ path: '/api/v1/settings', headers: auth })))).toMatchObject({ retentionDays: 120 });
    const keys = await fn.invoke(viaCloudFront({ path: '/api/v1/keys', headers: auth }));
    expect(keys.headers['cache-control']).toBe('no-store');
  });

  it('redirects through CloudFront: repeated query keys as sent, the cookie for the apex, the viewer country and address believed', async () => {
    const since = (await clicksSince(null)).cursor;
    const res = await fn.invoke(viaCloudFront({ path: '/spring', query: 'tag=a&tag=b&utm_campaign=spring,sale&gclid=G-1', cookies: ['_ga=GA1.1.1', 'other=1'] }));
    expect(res.statusCode).toBe(302);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const location = new URL(res.headers.location!);
    expect(location.origin + location.pathname).toBe('https://brand.com/pricing');
    expect(location.search).toContain('tag=a&tag=b');
    expect(location.searchParams.get('utm_campaign')).toBe('spring,sale');
    expect(location.searchParams.get('utm_source')).toBe('nl');
    expect(location.searchParams.has('rt_vid')).toBe(false); // brand.com shares the cookie's domain
    expect(cookieOf(res)).toMatch(/^rt_vid=[\w-]{22};.*Domain=brand\.com.*HttpOnly.*Secure.*SameSite=Lax/);
    const { items } = await clicksSince(since);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ slug: 'spring', country: 'JP', clickIds: { gclid: 'G-1' }, utm: { utm_campaign: 'spring,sale' } });
    expect(items[0]!.ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(items)).not.toContain('198.51.100.23');
  });

  it('keeps a returning visitor by the cookie in the cookies array', async () => {
    const vid = 'ReturningVisitor012345';
    const res = await fn.invoke(viaCloudFront({ path: '/spring', cookies: ['other=1', `rt_vid=${vid}`] }));
    expect(res.statusCode).toBe(302);
    expect(cookieOf(res)).toContain(`rt_vid=${vid};`);
  });

  it('believes nothing forged on the function URL reached directly: no country, the caller\'s own address, a host-only cookie', async () => {
    const since = (await clicksSince(null)).cursor;
    const vid = 'ForgedHeadersVisitor01';
    const forged = {
      'cloudfront-viewer-country': 'KP',
      'cloudfront-viewer-address': '192.0.2.99:443',
      'x-forwarded-for': '192.0.2.99',
      'x-forwarded-host': DOMAIN,
      'x-revtrail-origin-proof': 'guessed-0123456789abcdefghijklmnopqrstuvwx',
    };
    const withForgery = await fn.invoke(direct({ path: '/spring', cookies: [`rt_vid=${vid}`], headers: forged }));
    const plain = await fn.invoke(direct({ path: '/spring', cookies: [`rt_vid=${vid}`] }));
    for (const res of [withForgery, plain]) {
      expect(res.statusCode).toBe(302);
      expect(cookieOf(res)).not.toContain('Domain=');
      expect(cookieOf(res)).toContain('Secure');
    }
    // Forged from the victim's address: hashed like the forger's own plain request, not like the victim.
    const victim = await fn.invoke(direct({ path: '/spring', cookies: [`rt_vid=${vid}`] }, '192.0.2.99'));
    expect(victim.statusCode).toBe(302);
    const items = (await clicksSince(since)).items.filter((c) => c.visitorId === vid);
    expect(items.map((c) => c.country)).toEqual([null, null, null]);
    expect(items[0]!.ipHash).toBe(items[1]!.ipHash);
    expect(items[0]!.ipHash).not.toBe(items[2]!.ipHash);
  });

  it('serves the pixel gzip-encoded in base64, and takes its collect posts with base64 bodies', async () => {
    const pixel = await fn.invoke(viaCloudFront({ path: '/p.js', headers: { 'accept-encoding': 'gzip' } }));
    expect(pixel.statusCode).toBe(200);
    expect(pixel.isBase64Encoded).toBe(true);
    expect(pixel.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(Buffer.from(pixel.body, 'base64')).toString()).toContain('identify');

    const vid = 'PixelVisitor0123456789';
    const post = (body: object) =>
      fn.invoke(
        viaCloudFront({
          method: 'POST',
          path: '/api/v1/collect',
          headers: { origin: 'https://brand.com', 'content-type': 'text/plain;charset=UTF-8' },
          cookies: [`rt_vid=${vid}`],
          body: JSON.stringify(body),
          base64: true,
        }),
      );
    const pageview = await post({ t: 'pageview', url: 'https://brand.com/pricing', ref: 'https://news.example/' });
    expect(pageview.statusCode).toBe(204);
    expect(pageview.headers['access-control-allow-origin']).toBe('https://brand.com');
    expect((await post({ t: 'identify', email: 'Buyer@Example.com', url: 'https://brand.com/checkout', src: 'form' })).statusCode).toBe(204);

    const identities = json(await fn.invoke(viaCloudFront({ path: '/api/v1/identities', headers: auth }))).items as { visitorId: string; emailHash: string }[];
    const identity = identities.find((i) => i.visitorId === vid);
    expect(identity?.emailHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(identities)).not.toContain('Example.com');
    const pageviews = json(await fn.invoke(viaCloudFront({ path: '/api/v1/pageviews', headers: auth }))).items as { visitorId: string }[];
    expect(pageviews.some((p) => p.visitorId === vid)).toBe(true);

    // The person's data, then their erasure, through the sync API (the privacy screen's calls).
    const person = json(await fn.invoke(viaCloudFront({ path: '/api/v1/people', query: `emailHash=${identity!.emailHash}`, headers: auth })));
    expect(person).toMatchObject({ visitorIds: [vid], counts: { identities: 1, pageviews: 1 } });
    const erased = await fn.invoke(viaCloudFront({ method: 'POST', path: '/api/v1/erase', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ emailHash: identity!.emailHash }) }));
    expect(json(erased)).toMatchObject({ visitors: 1 });
    const after = json(await fn.invoke(viaCloudFront({ path: '/api/v1/people', query: `visitorId=${vid}`, headers: auth })));
    expect(after).toMatchObject({ counts: { clicks: 0, pageviews: 0, identities: 0 } });
  });

  it('keeps a Stripe delivery signed with the SST secret once, as a hint: a redelivery is a duplicate, a wrong signature refused', async () => {
    // Stripe delivers to the tracking domain, so through the Router; the body is the raw JSON it signed.
    const event = stripeEvent({ type: 'charge.refunded', object: charge(), created: Math.floor(Date.now() / 1000) });
    const payload = body(event);
    const deliver = (headers: Record<string, string>, base64 = false) =>
      fn.invoke(viaCloudFront({ method: 'POST', path: '/webhooks/stripe', headers: { ...headers, 'x-forwarded-for': '3.18.12.63' }, body: payload, base64 }));
    const first = await deliver(deliveryHeaders(payload, Date.now()));
    expect(first.statusCode).toBe(200);
    expect(json(first)).toEqual({ received: true, duplicate: false });
    // The same bytes base64-encoded, as a function URL passes a body it does not take for text.
    const again = await deliver(deliveryHeaders(payload, Date.now()), true);
    expect(json(again)).toEqual({ received: true, duplicate: true });
    const forged = await deliver(deliveryHeaders(payload, Date.now(), { secret: OTHER_SECRET }));
    expect(forged.statusCode).toBe(400);
    expect(forged.headers['cache-control']).toContain('no-store');

    const hints = json(await fn.invoke(viaCloudFront({ path: '/api/v1/stripe-hints', query: 'limit=1000', headers: auth }))).items as StripeHint[];
    const kept = hints.filter((h) => h.eventId === event.id);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ eventType: 'charge.refunded', objectType: 'charge', objectId: (event.data as { object: { id: string } }).object.id });
    expect(JSON.stringify(hints)).not.toContain('jenny.rosen@example.com');
    const status = json(await fn.invoke(viaCloudFront({ path: '/api/v1/webhooks/stripe', headers: auth })));
    expect(status).toMatchObject({ received: 1, duplicates: 1 });
  });

  it('answers errors with Cache-Control: no-store', async () => {
    const cases = [
      viaCloudFront({ path: '/api/v1/clicks', headers: { authorization: 'Bearer wrong' } }),
      viaCloudFront({ path: '/api/v1/nothing' }),
      viaCloudFront({ path: '/no-such-link' }),
      viaCloudFront({ method: 'POST', path: '/api/v1/collect', headers: { origin: 'https://brand.com', 'content-type': 'text/plain' }, body: '{"t":' }),
    ];
    for (const event of cases) {
      const res = await fn.invoke(event);
      expect(res.statusCode, event.rawPath).toBeGreaterThanOrEqual(400);
      expect(res.headers['cache-control'], event.rawPath).toContain('no-store');
    }
  });
});

describe('the built redirector on a slow store, with the budget it ships with', () => {
  let slow: Instance;
  beforeAll(async () => {
    const { REVTRAIL_CLICK_WRITE_BUDGET_MS: _generous, ...shipped } = redirectorEnv;
    slow = await start(redirectorBundle, shipped);
    // Links are in memory once preloaded; a click of the fresh instance warms its connections.
    expect((await slow.invoke(viaCloudFront({ path: '/spring' }))).statusCode).toBe(302);
  });

  it('spills clicks the table does not take within 150 ms to the queue, answers within the budget, and the built replay stores each once', async () => {
    const since = (await clicksSince(null)).cursor;
    redirectorDb.delayMs = 500;
    const sent = sqs.bodies.length;
    for (let i = 0; i < 3; i++) {
      expect((await slow.invoke(viaCloudFront({ path: '/spring', query: `utm_content=slow-${i}` }))).statusCode).toBe(302);
    }
    const spilled = sqs.bodies.slice(sent).flatMap((b) => spilledRecords(b));
    expect(spilled.map(content).sort()).toEqual(['slow-0', 'slow-1', 'slow-2']);
    redirectorDb.delayMs = 0;

    // The spill queue's subscriber, built and run as shipped, with an SQS event of those messages.
    const replay = await start(replayBundle, replayEnv);
    const records = sqs.bodies.slice(sent).map((body, i) => ({ messageId: `m${i}`, receiptHandle: `r${i}`, body, attributes: {}, messageAttributes: {}, eventSource: 'aws:sqs' }));
    expect(await replay.invoke({ Records: records })).toEqual({ batchItemFailures: [] });
    expect(await replay.invoke({ Records: records })).toEqual({ batchItemFailures: [] }); // a redelivery stores nothing twice
    const stored = (await clicksSince(since)).items.filter((c) => String((c.utm as Record<string, string>)?.utm_content).startsWith('slow-'));
    expect(stored.map((c) => c.id).sort()).toEqual(spilled.map((r) => r.item.id).sort());
  });

  it('answers within the budget when the table and the queue both hang, keeping the click in a log line npm run replay-log reads', async () => {
    redirectorDb.delayMs = 2000;
    sqs.delayMs = Infinity;
    const lines = slow.log.length;
    const started = performance.now();
    const res = await slow.invoke(viaCloudFront({ path: '/spring', query: 'utm_content=hung' }));
    const took = performance.now() - started;
    expect(res.statusCode).toBe(302);
    // Two budgets of 150 ms (table, then queue), far from the 5 s function timeout; slack for a busy machine.
    expect(took).toBeLessThan(2 * 150 + 700);
    // The log reaches us on the process's stdout, which may trail the handler's answer on the IPC channel.
    const kept = await eventually(() => slow.log.slice(lines).flatMap((line) => eventsOfLogLine(line) ?? []));
    expect(kept.map(content)).toEqual(['hung']);

    const health = await slow.invoke(viaCloudFront({ path: '/health' }));
    expect(json(health)).toMatchObject({ status: 'degraded' });
    redirectorDb.delayMs = 0;
    sqs.delayMs = 0;
    const replayed = await replayLogLines(slow.log.slice(lines), table);
    expect(replayed).toMatchObject({ events: 1, written: 1, unreadable: [] });
  });
});

describe('what the built functions call, against what sst.config.ts grants them', () => {
  it('calls no DynamoDB or SQS action outside each function\'s policy', () => {
    const calls = (ops: string[], service: string) => [...new Set(ops)].sort().map((op) => `${service}:${op}`);
    const redirector = [...calls(redirectorDb.operations, 'dynamodb'), ...calls(sqs.operations, 'sqs')];
    const replay = calls(replayDb.operations, 'dynamodb');
    const grantedRedirector = [...config.TABLE_ACCESS.redirector.actions, ...config.SPILL_ACTIONS];
    expect(redirector.filter((a) => !grantedRedirector.includes(a))).toEqual([]);
    expect(replay.filter((a) => !config.TABLE_ACCESS.replay.actions.includes(a))).toEqual([]);
    // The cases above reached the reads, writes and queries the policies are for.
    expect(redirector).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable', 'sqs:SendMessage']),
    );
    // Its UpdateItem (a feed's lease, store/feed-partitions.ts) is granted for when the lease it reads is over.
    expect(replay).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem']));
    // The indexes each queried, against the index ARNs its policy lists.
    expect(redirectorDb.indexes.filter((i) => !config.TABLE_ACCESS.redirector.indexes.includes(i))).toEqual([]);
    expect(replayDb.indexes.filter((i) => !config.TABLE_ACCESS.replay.indexes.includes(i))).toEqual([]);
    expect([...new Set(redirectorDb.indexes)].sort()).toEqual(['byEmail', 'byVisitorKeys']);
    expect([...new Set(replayDb.indexes)]).toEqual(['byVisitorKeys']);
  });
});
