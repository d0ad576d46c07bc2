// The browser the UI tests and benchmarks drive, found without configuration: playwright-core never
// downloads one, so any Chromium-family browser on the machine does (Chromium, Chrome, Edge).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

type Env = Record<string, string | undefined>;

const ON_PATH = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge', 'microsoft-edge-stable'];
const MAC_APPS = ['Chromium.app/Contents/MacOS/Chromium', 'Google Chrome.app/Contents/MacOS/Google Chrome', 'Microsoft Edge.app/Contents/MacOS/Microsoft Edge'];
const WINDOWS_APPS = ['Chromium\\Application\\chrome.exe', 'Google\\Chrome\\Application\\chrome.exe', 'Microsoft\\Edge\\Application\\msedge.exe'];

/** Where a Chromium-family browser may be, in order: $REVTRAIL_CHROMIUM, then the platform's usual places. */
export function chromiumCandidates(env: Env = process.env, platform: NodeJS.Platform = process.platform): string[] {
  const chosen = env.REVTRAIL_CHROMIUM ? [env.REVTRAIL_CHROMIUM] : [];
  if (platform === 'darwin') {
    return [...chosen, ...['/Applications', join(env.HOME ?? '', 'Applications')].flatMap((dir) => MAC_APPS.map((app) => join(dir, app)))];
  }
  if (platform === 'win32') {
    const roots = [env.PROGRAMFILES, env['PROGRAMFILES(X86)'], env.LOCALAPPDATA].filter((d): d is string => Boolean(d));
    return [...chosen, ...roots.flatMap((root) => WINDOWS_APPS.map((app) => `${root}\\${app}`))];
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...chosen, ...ON_PATH.flatMap((name) => dirs.map((dir) => join(dir, name))), '/snap/bin/chromium'];
}

/** The one command that installs a browser the tests can drive, for a person to run. */
export function installCommand(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'brew install --cask chromium';
  if (platform === 'win32') return 'winget install Google.Chrome';
  return 'sudo apt-get install -y chromium';
}

export type ChromiumFound = { path: string } | { missing: string };

export function findChromium(env: Env = process.env, platform: NodeJS.Platform = process.platform): ChromiumFound {
  if (env.REVTRAIL_CHROMIUM && !existsSync(env.REVTRAIL_CHROMIUM)) return { missing: `REVTRAIL_CHROMIUM names ${env.REVTRAIL_CHROMIUM}, which does not exist` };
  const path = chromiumCandidates(env, platform).find((p) => existsSync(p));
  return path ? { path } : { missing: `no Chromium, Chrome or Edge found; install one with: ${installCommand(platform)}` };
}

/** As root on Debian or Ubuntu: Debian's chromium package, waiting its turn if another test file installs it too. */
function aptInstall(): boolean {
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', 'chromium'], { stdio: 'ignore', timeout: 900_000 }).status === 0;
  if (install()) return true;
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 300_000 });
  return install();
}

let found: ChromiumFound | undefined;

/** findChromium, and where nothing is found and this is root on a Debian-family system, installs Chromium first. */
export function chromium(): ChromiumFound {
  if (found) return found;
  found = findChromium();
  const root = process.getuid?.() === 0;
  if ('missing' in found && !process.env.REVTRAIL_CHROMIUM && process.platform === 'linux' && root && existsSync('/usr/bin/apt-get')) {
    process.stderr.write('No Chromium-family browser found: installing Debian\'s chromium (apt-get install chromium)…\n');
    found = aptInstall() ? findChromium() : { missing: `apt-get install chromium failed; run it yourself: ${installCommand()}` };
  }
  return found;
}

/** Why the browser tests cannot run here ('' when they can). */
export const chromiumMissing = (): string => {
  const r = chromium();
  return 'missing' in r ? r.missing : '';
};

/** The browser's path; call only after chromiumMissing() returned ''. */
export const chromiumPath = (): string => {
  const r = chromium();
  if ('missing' in r) throw new Error(r.missing);
  return r.path;
};
