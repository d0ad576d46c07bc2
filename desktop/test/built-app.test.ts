import { execFile, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAst } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteHost } from '../src/host/core-client';
import { startCoreProcess } from '../src/host/core-client';
import { startFakeStripe, type FakeStripe } from '../src/fake-stripe/server';

// The app as it ships: electron-vite's build of desktop/, run without its sources. The core process is the
// built out/main/core-process.js under plain Node (the entry the app starts as a utilityProcess, and browser
// mode as a child), on a fresh data folder; the shell side talks to it as the app does.
const DESKTOP = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(DESKTOP, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
// Inside desktop/out/, so that the bundle resolves its runtime dependencies from node_modules as the packaged
// app does (Node walks up from the file), apart from any other build of the app that may be running.
const OUT = join(DESKTOP, 'out', `.built-app-test-${process.pid}`);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(root, e.name)) : [join(root, e.name)]));
}

/** Every module specifier a built file names as a string: import/export from, import(), require() (also through createRequire). */
function specifiersOf(code: string): string[] {
  const found: string[] = [];
  const literal = (node: unknown) => {
    const n = node as { type?: string; value?: unknown } | null;
    if (n?.type === 'Literal' && typeof n.value === 'string') found.push(n.value);
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown> & { type?: string };
    if (n.type === 'ImportDeclaration' || n.type === 'ExportAllDeclaration' || (n.type === 'ExportNamedDeclaration' && n.source)) literal(n.source);
    if (n.type === 'ImportExpression') literal(n.source);
    if (n.type === 'CallExpression') {
      const callee = n.callee as { type: string; name?: string };
      // require(...), the bundler's __require(...), and createRequire(import.meta.url)(...)
      const requires = (callee.type === 'Identifier' && /^(_*require|require\$?\d*)$/.test(callee.name ?? '')) || callee.type === 'CallExpression';
      if (requires) literal((n.arguments as unknown[])[0]);
    }
    for (const value of Object.values(n)) if (value !== null && typeof value === 'object') visit(value);
  };
  visit(parseAst(code));
  return found;
}

const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const builtin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec) || builtinModules.includes(spec.split('/')[0]!);

beforeAll(async () => {
  rmSync(OUT, { recursive: true, force: true });
  const cli = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  await promisify(execFile)(process.execPath, [cli, 'build', '--outDir', OUT, '--logLevel', 'warn'], { cwd: DESKTOP, maxBuffer: 16 * 1024 * 1024 });
}, 300_000);

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('the built output', () => {
  it('imports only its own files, Node, Electron and the declared runtime dependencies, and uses every one of them', () => {
    const files = filesUnder(OUT).filter((f) => /\.(c|m)?js$/.test(f));
    expect(files.map((f) => relative(OUT, f))).toEqual(expect.arrayContaining(['main/index.js', 'main/core-process.js', 'main/core-worker.js', 'preload/index.cjs']));
    const problems: string[] = [];
    const used = new Set<string>();
    for (const file of files) {
      for (const spec of specifiersOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(OUT) || !existsSync(target)) problems.push(`${relative(OUT, file)}: ${spec} is not in the build`);
        } else if (!builtin(spec) && spec !== 'electron') {
          if (spec in pkg.dependencies || packageOf(spec) in pkg.dependencies) used.add(packageOf(spec));
          else problems.push(`${relative(OUT, file)}: ${spec} is neither bundled nor a dependency in desktop/package.json`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect([...used].sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });
});

describe('the built core process under plain Node, on a fresh data folder', () => {
  let dir: string;
  let stripe: FakeStripe;
  let host: RemoteHost;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-built-'));
    stripe = await startFakeStripe();
    const started = await startCoreProcess(
      {
        mode: 'browser',
        dataDir: join(dir, 'data'),
        secrets: { keyFile: join(dir, 'keys', 'secrets.key'), prefer: 'file', safeStorage: false },
        stripeApiBase: stripe.url,
        localRedirector: { port: 0, settings: { REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOWED_ORIGINS: 'https://brand.com' } },
        schedule: false,
      },
      { spawn: () => fork(join(OUT, 'main', 'core-process.js'), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) },
    );
    if (!started.ok) throw new Error(started.error.message);
    host = started.value;
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    await stripe?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a workspace, connects its local redirector and Stripe, syncs a visit and a sale, and reports them', async () => {
    const call = async (method: string, args: object) => {
      const r = await host.call(method as never, args as never);
      if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
      return r.value as Record<string, unknown>;
    };
    expect(await call('workspaces.add', { name: 'Shipped' })).toMatchObject({ name: 'Shipped' });
    const local = host.localRedirector!;
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await call('shell.useLocalRedirector', { workspace: 'Shipped' });
    expect(await call('links.save', { slug: 'spring', link: { destination: 'https://brand.com/pricing', channel: 'Newsletter' } })).toMatchObject({ pushed: true });

    // The pixel is served from the bundle: the redirector's pixel.js, but for its settings on the last line.
    const pixel = await fetch(`${local.url}/p.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(pixel.status).toBe(200);
    const allButLast = (text: string) => text.trimEnd().split('\n').slice(0, -1).join('\n');
    expect(allButLast(await pixel.text())).toBe(allButLast(readFileSync(join(DESKTOP, '..', 'redirector', 'src', 'pixel', 'pixel.js'), 'utf8')));

    // A visitor clicks, lands on the shop with its visitor id, and signs up there.
    const click = await fetch(`${local.url}/spring`, { redirect: 'manual', headers: { 'user-agent': UA } });
    const landing = new URL(click.headers.get('location')!);
    expect(landing.origin + landing.pathname).toBe('https://brand.com/pricing');
    const vid = landing.searchParams.get('rt_vid')!;
    const identify = await fetch(`${local.url}/api/v1/collect`, {
      method: 'POST',
      headers: { origin: 'https://brand.com', 'content-type': 'text/plain', 'user-agent': UA },
      body: JSON.stringify({ t: 'identify', email: 'buyer@example.com', url: 'https://brand.com/pricing', src: 'form', vid }),
    });
    expect(identify.status).toBeLessThan(300);

    // Stripe bills that email a second later (Stripe speaks seconds), in the past by the time of the sync.
    const customer = stripe.state.addCustomer({ email: 'buyer@example.com', name: 'Buyer' });
    const at = stripe.state.now() + 1;
    stripe.state.addCharge({ amount: 4_900, currency: 'usd', customer: customer.id, at });
    while (Date.now() <= (at + 1) * 1000) await new Promise((ok) => setTimeout(ok, 100));
    await call('stripe.connect', { key: stripe.keys.restricted });

    // The identify beacon is in the local redirector's journal until its ingest stores it.
    let clicks = 0;
    let identities = 0;
    for (let tries = 0; tries < 50 && (clicks < 1 || identities < 1); tries++) {
      const pulled = await call('sync.redirector', {});
      clicks += pulled.clicks as number;
      identities += pulled.identities as number;
      if (clicks < 1 || identities < 1) await new Promise((ok) => setTimeout(ok, 200));
    }
    expect({ clicks, identities }).toEqual({ clicks: 1, identities: 1 });
    expect(await call('sync.stripe', {})).toMatchObject({ counts: { charges: { added: 1 } } });

    const today = new Date().toISOString().slice(0, 10);
    const report = await call('reports.channels', { from: today, to: today, tz: 'UTC' });
    const rows = report.rows as { channel: string; netMinor?: number }[];
    expect(rows.find((r) => r.channel === 'Newsletter')).toMatchObject({ netMinor: 4_900 });
  }, 120_000);
});
