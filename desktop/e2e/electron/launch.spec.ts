import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { _electron as electron } from 'playwright-core';
import { DESKTOP_DIR } from '../../src/launch/build-renderer';
import { findElectronBinary } from '../../src/launch/electron-binary';
import { SCREENSHOTS } from '../support';

const binary = findElectronBinary();
const built = existsSync(join(DESKTOP_DIR, 'out', 'main', 'index.js'));
const skip = 'missing' in binary ? binary.missing : built ? '' : 'the app is not built (run `npm run build --workspace desktop`)';

// The packaged shape of the app: Electron main + sandboxed preload + renderer over IPC, one journey step.
describe.skipIf(skip !== '')(`Electron app${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-electron-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the window, exposes only window.api, and creates a workspace over IPC', async () => {
    const app = await electron.launch({
      executablePath: 'path' in binary ? binary.path : undefined,
      args: [DESKTOP_DIR, '--no-sandbox'],
      env: { ...process.env, REVTRAIL_HOME: join(dir, 'data'), REVTRAIL_LOCAL_REDIRECTOR_PORT: '0' } as Record<string, string>,
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Welcome to Revtrail' }).waitFor();
      expect(await page.evaluate(() => Object.keys((globalThis as unknown as { api: object }).api).sort())).toEqual(['call', 'on']);
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      await page.getByLabel('Workspace name').fill('Electron shop');
      await page.getByRole('button', { name: 'Create workspace' }).click();
      await page.getByText('Setting up Electron shop').waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'electron-onboarding.png') });
    } finally {
      await app.close();
    }
  }, 60_000);
});
