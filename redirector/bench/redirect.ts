/**
 * npm run bench:redirect — the local redirector's redirects against a bare node:http redirect, clicks kept
 * under that load, the Lambda bundle's size and its cold-start ready time, each beside a reference
 * measured in the same run. It reports; a missed target still exits 0. A harness failure exits 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, arch, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import { systemClock } from '@revtrail/shared';
import { startLocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import { DynamoStore } from '../src/store/dynamo';
import { startBareRedirector } from './bare-server';
import { writeLinks } from '../scripts/sst-build';
import { bundleLambda, stopBundler } from './bundle';
import { accountClicks } from './clicks';
import { BROWSER_UA, drive, redirectsOf, type LoadSettings } from './load';
import { measureReady } from './ready';
import { printReport, type Results } from './report';

const RESULTS = fileURLToPath(new URL('./results/redirect.json', import.meta.url));
const LOAD: LoadSettings = { connections: 50, warmupSeconds: 2, durationSeconds: 10, userAgent: BROWSER_UA };
const READY_RUNS = 5;
const TARGETS = { ratioMin: 0.5, ingestRatioMin: 0.7, p99MaxMs: 10, bundleMaxBytes: 1024 * 1024, readyMaxMs: 150 };

const secret = () => randomBytes(30).toString('base64url'); // 40 characters


async function expectStatus(res: Response, status: number[], what: string): Promise<Response> {
  if (!status.includes(res.status)) throw new Error(`${what} answered ${res.status}: ${await res.text()}`);
  return res;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'revtrail-bench-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  try {
    const token = secret();
    const auth = { authorization: `Bearer ${token}` };
    const r = await startLocalRedirector({
      dataDir: join(work, 'data'),
      port: 0,
      settings: { REVTRAIL_SYNC_TOKEN: token, REVTRAIL_FEED_SETTLE_MS: '0' },
      // silentLogger is a pino instance typed down to the methods the app calls.
      log: silentLogger as pino.Logger,
    });
    cleanups.push(() => r.close());
    // Requests that reached the server, in flight or answered: what the table must hold once drained.
    let received = 0;
    r.app.server.on('request', (req: IncomingMessage) => {
      if (req.url === '/bench') received += 1;
    });

    await expectStatus(
      await fetch(`${r.url}/api/v1/links/bench`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Bench', utm: { utm_source: 'bench' } }),
      }),
      [200, 201],
      'PUT /api/v1/links/bench',
    );
    const first = await expectStatus(await fetch(`${r.url}/bench`, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } }), [302], 'GET /bench');
    const location = first.headers.get('location');
    if (!location) throw new Error('GET /bench answered 302 without a Location');

    const bare = await startBareRedirector(new Map([['bench', location]]));
    cleanups.push(() => bare.close());
    await expectStatus(await fetch(`${bare.url}/bench`, { redirect: 'manual' }), [302], 'the bare server');

    const step = (what: string) => console.log(`[${(performance.now() / 1000).toFixed(1)} s] ${what}`);
    step(`load: bare node:http, ${LOAD.warmupSeconds} s warm-up + ${LOAD.durationSeconds} s`);
    const bareLoad = await drive(`${bare.url}/bench`, LOAD);
    step(`load: redirector, ${LOAD.warmupSeconds} s warm-up + ${LOAD.durationSeconds} s`);
    const redirectorLoad = await drive(`${r.url}/bench`, LOAD);
    step('clicks: draining the recorder, replaying the spill, paging the feed');
    const clicks = await accountClicks(r, auth);
    const answered = 1 + redirectsOf(redirectorLoad.warmup) + redirectsOf(redirectorLoad.measured);

    step('bundling src/lambda.ts as sst deploy does');
    cleanups.push(() => stopBundler());
    const full = await bundleLambda(join(work, 'bundle-full'), { externalSdk: false });
    const sdkExternal = await bundleLambda(join(work, 'bundle-sdk-external'), { externalSdk: true });

    // The probe's app reads and writes its own table in the embedded store, holding the same link.
    const link = await r.store.getLink('bench');
    if (!link) throw new Error('the bench link is not in the store');
    const lambdaTable = new DynamoStore({ tableName: 'revtrail-bench', retentionDays: r.config.retentionDays, client: r.dynamo.client(), clock: systemClock });
    await lambdaTable.ensureTable(Date.now());
    await lambdaTable.putLink(link);
    lambdaTable.client.destroy();
    step(`ready: ${READY_RUNS} cold starts of the bundle and of the reference`);
    // The function's links as SST ships them, in the bundle's resource.enc.
    const links = writeLinks(full.dir, {
      Table: { name: 'revtrail-bench', type: 'sst.aws.Dynamo' },
      // Its endpoint is a closed loopback port (AWS_ENDPOINT_URL_SQS below), so nothing leaves the machine.
      Spill: { url: 'https://sqs.us-east-1.amazonaws.com/000000000000/revtrail-bench-Spill', type: 'sst.aws.Queue' },
      SyncToken: { value: secret(), type: 'sst.sst.Secret' },
      EmailHashKey: { value: secret(), type: 'sst.sst.Secret' },
      IpSaltSeed: { value: secret(), type: 'sst.sst.Secret' },
      StripeWebhookSecret: { value: 'unset', type: 'sst.sst.Secret' },
    }, { name: 'revtrail', stage: 'bench' });
    const ready = await measureReady({
      bundle: full,
      runs: READY_RUNS,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        BENCH_USER_AGENT: BROWSER_UA,
        ...links,
        AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_ENDPOINT_URL_DYNAMODB: r.dynamo.endpoint,
      },
    });
    const strip = (url: string) => url.replace(/[?&]rt_vid=[^&]*/, '');
    if (ready.check.statusCode !== 302 || strip(ready.check.location ?? '') !== strip(location)) {
      throw new Error(`the bundle answered GET /bench with ${ready.check.statusCode} ${ready.check.location}, expected 302 ${location}`);
    }

    const ratio = redirectorLoad.measured.requestsPerSecond / bareLoad.measured.requestsPerSecond;
    const ingestRatio = clicks.drainPerSecond / clicks.ceiling.best;
    const lost = Math.max(0, received - clicks.stored, answered - clicks.stored);
    const targets = {
      ratio: { target: `>= ${TARGETS.ratioMin}`, value: ratio, pass: ratio >= TARGETS.ratioMin },
      p99: { target: `< ${TARGETS.p99MaxMs} ms`, value: redirectorLoad.measured.p99Ms, pass: redirectorLoad.measured.p99Ms < TARGETS.p99MaxMs },
      clicksLost: { target: '0 lost', value: lost, pass: lost === 0 && clicks.stored === received && clicks.repeated === 0 },
      ingest: { target: `>= ${TARGETS.ingestRatioMin}`, value: ingestRatio, pass: ingestRatio >= TARGETS.ingestRatioMin },
      bundle: { target: `< 1 MB`, value: full.bytes, pass: full.bytes < TARGETS.bundleMaxBytes },
      ready: { target: `< ${TARGETS.readyMaxMs} ms`, value: ready.bundle.median.readyMs, pass: ready.bundle.median.readyMs < TARGETS.readyMaxMs },
    };

    const cpu = cpus();
    const machine = { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', os: `${platform()} ${release()} ${arch()}`, memoryBytes: totalmem(), node: process.version };
    const results: Results = {
      date: new Date().toISOString(),
      machine,
      load: { ...LOAD, path: '/bench', loadGenerator: 'autocannon 8 in a separate node process (bench/load-process.mjs)' },
      redirector: redirectorLoad.measured,
      bare: bareLoad.measured,
      warmup: { redirector: redirectorLoad.warmup, bare: bareLoad.warmup },
      ratio,
      clicks: { ...clicks, answered302: answered, received, inFlightAtStop: received - answered, lost },
      bundle: { full, sdkExternal, judgedOn: 'full' },
      ready: { runs: READY_RUNS, bundle: ready.bundle, bare: ready.bare, check: ready.check },
      targets,
    };
    mkdirSync(join(RESULTS, '..'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

    printReport(results, RESULTS);
  } finally {
    // Every server, the store and the temp dir go, even when one of them fails to close.
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch((e: unknown) => console.error('cleanup failed:', e));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench:redirect failed:', err);
    process.exit(1);
  },
);
