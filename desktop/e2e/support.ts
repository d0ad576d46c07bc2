import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { systemClock } from '@revtrail/shared';
import { chromiumMissing as whyNoChromium, chromiumPath } from '../../redirector/test/chromium';
import { EncryptedFileSecretStore } from '../src/core/secrets/encrypted-file';
import { buildRenderer } from '../src/launch/build-renderer';
import { startBrowserMode, type BrowserMode, type InProcessBrowserModeOptions } from '../src/launch/browser-mode';

/** Why the browser journeys cannot run here ('' when they can): no Chromium, Chrome or Edge, and none installable. */
export const chromiumMissing = whyNoChromium();
/** Headless Chromium says "HeadlessChrome", rightly a bot to the redirector; a visitor's browser does not. */
export const CHROME_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const SCREENSHOTS = join(fileURLToPath(new URL('..', import.meta.url)), '.test-results', 'screenshots');
export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Browser mode on a fresh data folder under `dir`, with its own renderer build and a local redirector on any
 * port; the core in this process, so a spec reaches its host. `options` adds to or replaces these.
 */
export async function startSpecApp(dir: string, options: Partial<InProcessBrowserModeOptions> = {}): Promise<BrowserMode> {
  const staticDir = await buildRenderer(join(dir, 'renderer'));
  return startBrowserMode({
    dataDir: join(dir, 'data'),
    clock: systemClock,
    log: quietLog,
    secrets: new EncryptedFileSecretStore(join(dir, 'data', 'secrets.enc'), join(dir, 'secrets.key')),
    staticDir,
    localRedirector: { port: 0 },
    schedule: false,
    ...options,
  });
}

const LOOPBACK_HOSTS = /^(127\.0\.0\.1|localhost|\[::1\])$/;

/** Every URL a context asks for (pages, scripts, XHR, images, redirects), to prove none left the machine. */
export function recordRequests(context: BrowserContext): string[] {
  const seen: string[] = [];
  context.on('request', (r) => seen.push(r.url()));
  return seen;
}

export const nonLoopback = (urls: readonly string[]) =>
  urls.filter((u) => {
    const url = new URL(u);
    return !(url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK_HOSTS.test(url.hostname));
  });

/**
 * The customer's website: a landing page carrying the pixel of `redirectorUrl()` with a sign-up form, on
 * "localhost" (another host than the redirector's 127.0.0.1, as a real site is another domain).
 */
export async function startShop(redirectorUrl: () => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    const thanks = (req.url ?? '').startsWith('/thanks');
    res.end(
      thanks
        ? '<!doctype html><title>Thanks</title><h1>Thanks for signing up</h1>'
        : `<!doctype html><title>Shop</title><h1>Pricing</h1><form action="/thanks" method="get"><input type="email" name="email"><button>Start trial</button></form>` +
            `<script async src="${redirectorUrl()}/p.js" data-auto-identify></script>`,
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { origin: `http://localhost:${(server.address() as { port: number }).port}`, server };
}

/** axe-core's browser build, a dev dependency of this workspace. */
const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2 A and AA rules and its best practices, every rule it enables by default) over the
 * page as it is, and fails on any serious or critical violation, naming the rule and the elements. The
 * app's CSP allows no inline script, so the page's context must be made with `bypassCSP: true` for axe to
 * be injected. Returns the minor and moderate ones, for the spec to show.
 */
export async function expectNoSeriousA11yViolations(page: Page, screen: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ path: AXE_SCRIPT });
  const violations = await page.evaluate(async () => {
    // The whole document (axe's default context), every rule axe enables by default.
    const axe = (globalThis as unknown as { axe: { run(o: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run({ resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  const line = (v: AxeViolation) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`;
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map(line), `axe-core on ${screen}`).toEqual([]);
  return violations.map(line);
}
