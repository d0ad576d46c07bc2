import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chromiumCandidates, findChromium, installCommand } from './chromium';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function binDir(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-browsers-'));
  dirs.push(dir);
  for (const name of names) {
    writeFileSync(join(dir, name), '#!/bin/sh\n');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe('findChromium', () => {
  it('takes the first Chromium-family browser on PATH, Chromium before Chrome before Edge', () => {
    const edgeOnly = binDir('microsoft-edge');
    const both = binDir('google-chrome-stable', 'chromium-browser');
    expect(findChromium({ PATH: `${edgeOnly}:${both}` }, 'linux')).toEqual({ path: join(both, 'chromium-browser') });
    expect(findChromium({ PATH: edgeOnly }, 'linux')).toEqual({ path: join(edgeOnly, 'microsoft-edge') });
  });

  it('prefers REVTRAIL_CHROMIUM, and names it when it does not exist', () => {
    const onPath = binDir('chromium');
    const chosen = join(binDir('my-chrome'), 'my-chrome');
    expect(findChromium({ PATH: onPath, REVTRAIL_CHROMIUM: chosen }, 'linux')).toEqual({ path: chosen });
    expect(findChromium({ PATH: onPath, REVTRAIL_CHROMIUM: '/nowhere/chrome' }, 'linux')).toEqual({
      missing: 'REVTRAIL_CHROMIUM names /nowhere/chrome, which does not exist',
    });
  });

  it('says which one command installs a browser when there is none', () => {
    const empty = binDir();
    expect(findChromium({ PATH: empty }, 'linux')).toEqual({ missing: 'no Chromium, Chrome or Edge found; install one with: sudo apt-get install -y chromium' });
    expect(installCommand('darwin')).toBe('brew install --cask chromium');
    expect(installCommand('win32')).toBe('winget install Google.Chrome');
  });

  it('looks in the application folders on macOS and Windows', () => {
    const home = binDir();
    const app = join(home, 'Applications', 'Google Chrome.app', 'Contents', 'MacOS');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'Google Chrome'), '');
    expect(findChromium({ HOME: home }, 'darwin')).toEqual({ path: join(app, 'Google Chrome') });
    expect(chromiumCandidates({ PROGRAMFILES: 'C:\\Program Files', LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32')).toEqual(
      expect.arrayContaining(['C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', 'C:\\Users\\a\\AppData\\Local\\Microsoft\\Edge\\Application\\msedge.exe']),
    );
  });
});
