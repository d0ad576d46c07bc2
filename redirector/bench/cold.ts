/**
 * The Lambda's cold start, for bench/redirect.ts (all of its run, or `-- --cold` for this part alone): the
 * bundle as `sst deploy` builds it, its cold starts in fresh `node` processes and the CPU of a warm redirect
 * through its handler, each beside bare node:http in the same run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { systemClock, type Link } from '@revtrail/shared';
import { writeLinks } from '../scripts/sst-build';
import { DynamoStore } from '../src/store/dynamo';
import { bundleLambda, stopBundler, type BundleFigures } from './bundle';
import { summariseProfile, type ProfileShare } from './cold-profile';
import { measureReady, profiledStart, type ReadyFigures } from './ready';
import type { Target } from './report';

export const COLD_TARGETS = { bundleMaxBytes: 1024 * 1024, readyMaxMs: 150 };

export interface ColdFigures {
  /** As shipped (judged), and with @aws-sdk/* external as a comparison. */
  bundle: { full: BundleFigures; sdkExternal: BundleFigures; judgedOn: 'full: the code loaded at a cold start' };
  ready: {
    runs: number;
    bundle: ReadyFigures;
    bare: ReadyFigures;
    check: { statusCode: number; location: string | null };
    /** The bundle started with Node's compile cache: empty (a Lambda cold start), then filled by that start. */
    compileCache?: { runs: number; empty: ReadyFigures; filled: ReadyFigures };
  };
  targets: Record<'bundle' | 'ready', Target>;
  /** When the ready target is missed: one more start, of the same code unminified, profiled up to its ready. */
  profile?: { readyMs: number; readyCpuMs: number; totalMs: number; shares: ProfileShare[] };
  /**
   * That profiled start's warm redirects (the same process, after its ready): their sampled CPU per redirect
   * (µs, waiting left out) by package and by function, and their process CPU per redirect under the profiler.
   */
  warmProfile?: { requests: number; cpuPerRequestUs: number; sampledUs: number; shares: ProfileShare[]; functions: ProfileShare[] };
}

const secret = () => randomBytes(30).toString('base64url'); // 40 characters

/**
 * Bundles src/lambda.ts into `work`, puts `link` into a table of its own at `dynamo` (the embedded store of
 * the run), and starts the bundle `runs` times against it, alternating with the bare reference.
 */
export async function measureColdStart(opts: {
  work: string;
  dynamo: { endpoint: string; client: () => DynamoDBClient };
  link: Link;
  retentionDays: number;
  userAgent: string;
  runs: number;
  /** The Location the redirector answered for the link: the bundle must answer the same. */
  location: string;
}): Promise<ColdFigures> {
  try {
    const full = await bundleLambda(join(opts.work, 'bundle-full'), { externalSdk: false });
    const sdkExternal = await bundleLambda(join(opts.work, 'bundle-sdk-external'), { externalSdk: true });

    // The probe's app reads and writes its own table in the embedded store, holding the same link.
    const lambdaTable = new DynamoStore({ tableName: 'revtrail-bench', retentionDays: opts.retentionDays, client: opts.dynamo.client(), clock: systemClock });
    await lambdaTable.ensureTable(Date.now());
    await lambdaTable.putLink(opts.link);
    lambdaTable.client.destroy();
    // The function's links as SST ships them, in the bundle's resource.enc.
    const linksOf = (dir: string) => writeLinks(dir, {
      Table: { name: 'revtrail-bench', type: 'sst.aws.Dynamo' },
      // Its endpoint is a closed loopback port (AWS_ENDPOINT_URL_SQS below), so nothing leaves the machine.
      Spill: { url: 'https://sqs.us-east-1.amazonaws.com/000000000000/revtrail-bench-Spill', type: 'sst.aws.Queue' },
      SyncToken: { value: secret(), type: 'sst.sst.Secret' },
      EmailHashKey: { value: secret(), type: 'sst.sst.Secret' },
      IpSaltSeed: { value: secret(), type: 'sst.sst.Secret' },
      StripeWebhookSecret: { value: 'unset', type: 'sst.sst.Secret' },
    }, { name: 'revtrail', stage: 'bench' });
    const links = linksOf(full.dir);
    const compileCacheRuns = opts.runs;
    // DynamoDB over TLS, as on AWS: the handshake is part of the first table read, and the SDK's http: path
    // (a dynamic import('node:http') on its first request, ~30 ms of CPU for the module's ESM facade) is not.
    const tls = await tlsFront(opts.work, new URL(opts.dynamo.endpoint));
    const env = (sstKeys: Record<string, string>) => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      BENCH_USER_AGENT: opts.userAgent,
      ...sstKeys,
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: tls.endpoint,
      NODE_EXTRA_CA_CERTS: tls.caFile,
    });
    const ready = await measureReady({
      bundle: full,
      runs: opts.runs,
      compileCacheRuns,
      env: env(links),
    }).finally(() => tls.close());
    const strip = (url: string) => url.replace(/[?&]rt_vid=[^&]*/, '');
    if (ready.check.statusCode !== 302 || strip(ready.check.location ?? '') !== strip(opts.location)) {
      throw new Error(`the bundle answered GET /bench with ${ready.check.statusCode} ${ready.check.location}, expected 302 ${opts.location}`);
    }
    const startBytes = full.startBytes;
    const readyMs = ready.bundle.median.readyMs;
    // One more start of the same code built unminified, profiled: its start when the ready target is missed,
    // and always its warm redirects.
    let profile: ColdFigures['profile'];
    let warmProfile: ColdFigures['warmProfile'];
    {
      const plain = await bundleLambda(join(opts.work, 'bundle-profile'), { externalSdk: false, unminified: true });
      const profileDir = join(opts.work, 'profile');
      const tls2 = await tlsFront(join(opts.work, 'bundle-profile'), new URL(opts.dynamo.endpoint));
      try {
        const started = await profiledStart({ bundle: plain, env: { ...env(linksOf(plain.dir)), AWS_ENDPOINT_URL_DYNAMODB: tls2.endpoint, NODE_EXTRA_CA_CERTS: tls2.caFile }, profileDir });
        const files = plain.files.map((f) => f.path);
        if (readyMs >= COLD_TARGETS.readyMaxMs) {
          const { totalMs, shares } = summariseProfile(profileDir, files, started.readyMs);
          profile = { readyMs: started.readyMs, readyCpuMs: started.readyCpuMs, totalMs, shares: shares.slice(0, 14) };
        }
        const warm = summariseProfile(profileDir, files, started.warmWindow.toMs, started.warmWindow.fromMs);
        const perRequest = (list: ProfileShare[]) => list.filter((x) => !x.what.startsWith('waiting')).map((x) => ({ what: x.what, ms: (x.ms * 1000) / started.cpuRequests }));
        const shares = perRequest(warm.shares);
        warmProfile = {
          requests: started.cpuRequests,
          cpuPerRequestUs: started.cpuPerRequestUs,
          sampledUs: shares.reduce((n, x) => n + x.ms, 0),
          shares: shares.slice(0, 12),
          functions: perRequest(warm.functions).slice(0, 16),
        };
      } finally {
        tls2.close();
      }
    }
    return {
      bundle: { full, sdkExternal, judgedOn: 'full: the code loaded at a cold start' },
      ready: {
        runs: opts.runs,
        bundle: ready.bundle,
        bare: ready.bare,
        check: ready.check,
        ...(ready.compileCache ? { compileCache: { runs: compileCacheRuns, ...ready.compileCache } } : {}),
      },
      targets: {
        bundle: { target: '< 1 MB loaded at start', value: startBytes, pass: startBytes < COLD_TARGETS.bundleMaxBytes },
        ready: { target: `< ${COLD_TARGETS.readyMaxMs} ms`, value: readyMs, pass: readyMs < COLD_TARGETS.readyMaxMs },
      },
      ...(profile ? { profile } : {}),
      ...(warmProfile ? { warmProfile } : {}),
    };
  } finally {
    await stopBundler();
  }
}

/**
 * A TLS endpoint in front of the embedded store (loopback), with a certificate made for it: the probes trust it
 * through NODE_EXTRA_CA_CERTS (the bare reference is started with the same environment).
 */
async function tlsFront(work: string, target: URL): Promise<{ endpoint: string; caFile: string; close(): void }> {
  const [keyFile, caFile] = [join(work, 'tls-key.pem'), join(work, 'tls-cert.pem')];
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', keyFile, '-out', caFile, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  const server: TlsServer = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    // Without TCP_NODELAY on the relay's two sockets, Nagle held a short segment of each answer until the ACK
    // of the one before, which Linux delays up to 40 ms: the first table read took 83 ms (34 ms of it CPU) and
    // every write ~6 ms more. The relay's stall, not the bundle's: Node's HTTP client, the SDK's, disables
    // Nagle on its own sockets.
    socket.setNoDelay(true);
    upstream.setNoDelay(true);
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caFile, close: () => server.close() };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(n < 10 ? 2 : 1)} ms`;
const us = (n: number) => `${n.toFixed(0)} µs`;
const kb = (bytes: number) => `${int(bytes)} B (${(bytes / 1024).toFixed(1)} KB)`;
const verdict = (t: Target) => `(target ${t.target}) ${t.pass ? 'PASS' : 'FAIL'}`;
const row = (label: string, a: string, b: string, note = '') => `  ${label.padEnd(22)}${a.padStart(16)}${b.padStart(18)}   ${note}`.trimEnd();

/** The cold-start part of the report, each figure beside its same-run reference. */
export function coldStartLines(c: ColdFigures): string[] {
  const { bundle, ready, targets } = c;
  const b = ready.bundle.median;
  const r = ready.bare.median;
  const files = (f: BundleFigures) => `${f.files.length} file${f.files.length === 1 ? '' : 's'}`;
  return [
    'Lambda bundle of src/lambda.ts as sst deploy builds it (scripts/sst-build.ts: SST 4.17\'s esbuild options with sst.config.ts\'s nodejs settings, ESM, esnext, minified, no source map, AWS SDK inside; pixel.js and resource.enc beside it)',
    `  loaded at a cold start (judged: the handler's file and the chunks it imports statically; 1 MB = 1,048,576 B): ${kb(bundle.full.startBytes)} ${verdict(targets.bundle)}`,
    `  all code in the package: ${kb(bundle.full.totalBytes)} in ${files(bundle.full)} (the rest loads on the first request that needs it)`,
    `  with @aws-sdk/* external (comparison): loaded at start ${kb(bundle.sdkExternal.startBytes)}, all ${kb(bundle.sdkExternal.totalBytes)}`,
    `  largest loaded at start: ${bundle.full.largest.map((p) => `${p.name} ${(p.bytes / 1024).toFixed(0)} KB`).join(', ')}`,
    '',
    `Cold start, fresh \`node\` processes in the bundle's root, the table over TLS as on AWS (the embedded store behind a loopback TLS endpoint), median of ${ready.runs} (reference: node:http, createServer, listen, GETs over loopback)`,
    row('', 'bundle', 'bare node:http'),
    row('node started', ms(b.startedMs), ms(r.startedMs)),
    row('import (modules)', ms(b.modulesMs), ms(r.modulesMs), `(CPU from the process's start: ${ms(b.modulesCpuMs)} vs ${ms(r.modulesCpuMs)})`),
    row('build (app / listen)', ms(b.buildMs), ms(r.buildMs)),
    row('  of which the app', ms(b.appMs), ms(r.appMs), `(config, clients, the context the direct redirect path answers from; Fastify loads on the first other request; CPU ${ms(b.appCpuMs)} vs ${ms(r.appCpuMs)})`),
    row('  the first table read', ms(b.warmUpMs), '-', `(awaited, bounded: the SDK's first request and the connection, so the first click need not; CPU ${ms(b.warmUpCpuMs)})`),
    row('ready since start', ms(b.readyMs), ms(r.readyMs), `${verdict(targets.ready)}; ratio ${(b.readyMs / r.readyMs).toFixed(1)}x`),
    row('  CPU until ready', ms(b.readyCpuMs), ms(r.readyCpuMs), `(user + system, all threads: what a busy machine does not inflate; ratio ${(b.readyCpuMs / r.readyCpuMs).toFixed(1)}x)`),
    row('first request', ms(b.firstRequestMs), ms(r.firstRequestMs), '(the bundle: a click written to the table)'),
    row('second request', ms(b.secondRequestMs), ms(r.secondRequestMs)),
    row('CPU per warm redirect', us(b.cpuPerRequestUs), us(r.cpuPerRequestUs),
      `(process CPU over ${int(b.cpuRequests)} sequential redirects after ${int(b.cpuWarmup)} warm-up: the bundle's handler called with function URL events, ` +
        'each click written to the table in another process; bare: GETs over one keep-alive connection from another process; ' +
        `ratio ${(b.cpuPerRequestUs / r.cpuPerRequestUs).toFixed(1)}x. Lambda's runtime client adds its own per-invoke HTTP calls, not counted)`),
    `  check: GET /bench through the bundle's handler answered ${ready.check.statusCode} ${ready.check.location}`,
    ...compileCacheLines(ready.compileCache, b),
    ...profileLines(c.profile),
    ...warmProfileLines(c.warmProfile),
  ];
}

/** Where a warm redirect's CPU goes, per redirect (the `ms` of each share holds µs here). */
function warmProfileLines(warm: ColdFigures['warmProfile']): string[] {
  if (!warm) return [];
  return [
    `Where a warm redirect's CPU goes: the profiled start's ${int(warm.requests)} measured redirects (the same handler calls as above, the code unminified, V8 sampling every 100 µs: ${us(warm.cpuPerRequestUs)} of process CPU each under the profiler, ${us(warm.sampledUs)} sampled on the main thread, waiting left out), per redirect, by package:`,
    ...warm.shares.map((s) => `  ${us(s.ms).padStart(8)}  ${((s.ms / warm.sampledUs) * 100).toFixed(0).padStart(3)}%  ${s.what}`),
    '  by function (self time; a function in Node named with the package that called it):',
    ...warm.functions.map((s) => `  ${us(s.ms).padStart(8)}  ${((s.ms / warm.sampledUs) * 100).toFixed(0).padStart(3)}%  ${s.what}`),
  ];
}

/** Where the time of a start that missed its target went. */
function profileLines(profile: ColdFigures['profile']): string[] {
  if (!profile) return [];
  return [
    `Where a start's CPU goes (the ready target missed): one more start of the same code built unminified, profiled (V8, 100 µs samples) up to ready at ${ms(profile.readyMs)} (CPU ${ms(profile.readyCpuMs)}; the profiler slows it); ${ms(profile.totalMs)} sampled, by the package whose code ran (with what it called in Node):`,
    ...profile.shares.map((s) => `  ${ms(s.ms).padStart(9)}  ${((s.ms / profile.totalMs) * 100).toFixed(0).padStart(3)}%  ${s.what}`),
  ];
}

/**
 * Node's module compile cache, measured: a Lambda environment starts once, with an empty /tmp (the only
 * writable place), so a cold start is the `empty` case; `filled` is what a second start in the same place
 * would see, which Lambda does not do (the package's /var/task is read-only, and SST ships no cache).
 */
function compileCacheLines(cache: ColdFigures['ready']['compileCache'], without: ReadyFigures['median']): string[] {
  if (!cache) return [];
  const e = cache.empty.median;
  const f = cache.filled.median;
  return [
    `Node's module compile cache (NODE_COMPILE_CACHE / module.enableCompileCache()), the bundle started ${cache.runs} time(s) with a fresh cache directory, then again with what that start wrote; median`,
    row('', 'empty cache', 'filled cache'),
    row('import (modules)', ms(e.modulesMs), ms(f.modulesMs), `(without the cache: ${ms(without.modulesMs)})`),
    row('ready since start', ms(e.readyMs), ms(f.readyMs), `(without: ${ms(without.readyMs)})`),
    row('  CPU until ready', ms(e.readyCpuMs), ms(f.readyCpuMs), `(without: ${ms(without.readyCpuMs)})`),
    `  CPU until ready against the starts without it: empty ${signed(e.readyCpuMs - without.readyCpuMs)}, filled ${signed(f.readyCpuMs - without.readyCpuMs)}. ` +
      'A Lambda cold start is the empty case (a new environment starts once, its /tmp empty: nothing to read, the cache is written at exit); ' +
      'the filled case is a second start in the same place, which Lambda does not do. lambda.ts does not enable it.',
  ];
}

const signed = (n: number) => `${n >= 0 ? '+' : '-'}${ms(Math.abs(n))}`;
