import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, defaultSecretKeyFile } from '../host/paths';
import type { CoreLogger } from '../core/context';
import { DESKTOP_DIR } from './build-renderer';
import { HostStartError, startBrowserMode } from './browser-mode';
import { findElectronBinary } from './electron-binary';

const USAGE = `Usage: npm start [-- options]

Opens the Revtrail desktop app where Electron is installed, else the same app in your browser
(served on 127.0.0.1 only, behind a token in the address it prints).

Options:
  --browser          browser mode even where Electron is installed
  --no-open          do not open a browser (also when CI is set)
  --port N           browser mode's port (default: any free port)
  --data-dir DIR     where the data lives (default: REVTRAIL_HOME or the platform's app data folder)
  -h, --help         this help

Environment: REVTRAIL_LOCAL_REDIRECTOR_PORT (default 8787), REVTRAIL_ALLOWED_ORIGINS (sites whose pixel
may report to the local redirector; the Links screen's Pixel panel allows more),
REVTRAIL_ALLOW_PRIVATE_DESTINATIONS=true (links of the local redirector may lead to a page on this machine),
REVTRAIL_SECRETS=keychain|safe-storage|file (for a new data folder; safe-storage in the app only),
REVTRAIL_STRIPE_API_BASE (a Stripe stand-in for every workspace; Set up's Stripe test mode sets one per workspace).`;

const log: CoreLogger = {
  info: () => undefined,
  warn: (_o, m) => process.stderr.write(`warning: ${m}\n`),
  error: (o, m) => process.stderr.write(`error: ${m} ${JSON.stringify(o)}\n`),
};

function openInBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => process.stdout.write('(Could not open a browser by itself: copy the address above into one.)\n'));
  child.unref();
}

async function main(argv: string[]): Promise<number> {
  let values: { browser?: boolean; 'no-open'?: boolean; port?: string; 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { browser: { type: 'boolean' }, 'no-open': { type: 'boolean' }, port: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dataDir = values['data-dir'] ?? defaultDataDir(process.env);
  const electron = values.browser ? { missing: '--browser was given' } : findElectronBinary();

  if ('path' in electron) {
    if (!existsSync(join(DESKTOP_DIR, 'out', 'main', 'index.js'))) {
      process.stdout.write('Building the app (electron-vite build)…\n');
      const built = spawn('npx', ['electron-vite', 'build'], { cwd: DESKTOP_DIR, stdio: 'inherit' });
      const code = await new Promise<number>((done) => built.on('exit', (c) => done(c ?? 1)));
      if (code !== 0) return code;
    }
    process.stdout.write(`Opening the Revtrail desktop app (Electron at ${electron.path}); data in ${dataDir}.\n`);
    const app = spawn(electron.path, [DESKTOP_DIR], { stdio: 'inherit', env: { ...process.env, REVTRAIL_HOME: dataDir } });
    return new Promise<number>((done) => app.on('exit', (c) => done(c ?? 0)));
  }

  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`--port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  const localPort = Number(process.env.REVTRAIL_LOCAL_REDIRECTOR_PORT ?? 8787);
  const stripeApiBase = process.env.REVTRAIL_STRIPE_API_BASE || undefined;
  process.stdout.write(`Electron is not available (${electron.missing}): starting browser mode…\n`);
  let app;
  try {
    // The core runs in a child process; it picks this data folder's secret store by the same marker the CLI and the app follow.
    app = await startBrowserMode({
      dataDir,
      log,
      secrets: { keyFile: defaultSecretKeyFile(process.env), prefer: process.env.REVTRAIL_SECRETS, env: { PATH: process.env.PATH }, safeStorage: false },
      stripeApiBase,
      port,
      localRedirector: { port: localPort },
    });
  } catch (e) {
    if (!(e instanceof HostStartError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
  const local = app.host.localRedirector;
  process.stdout.write(
    [
      '',
      `Revtrail is running in browser mode, on this machine only. Open:`,
      '',
      `  ${app.url}`,
      '',
      'The part after # is the access key: your browser keeps it in that tab and sends it to nothing else.',
      `Data: ${dataDir}`,
      local ? `Local redirector (for trying links before you deploy one): ${local.url}` : 'Local redirector: not started (every workspace has a deployed one).',
      `Log: ${app.host.logFile}`,
      'Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  if (!values['no-open'] && !process.env.CI) openInBrowser(app.url);

  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('Stopping…\n');
  await app.close();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
