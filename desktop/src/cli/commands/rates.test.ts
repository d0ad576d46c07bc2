import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { createCore } from '../../core/core';
import type { SecretStore } from '../../core/secrets/types';
import { ratesCommand } from './rates';

const dir = mkdtempSync(join(tmpdir(), 'revtrail-rates-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secrets: SecretStore = { description: 'none (test)', get: async () => null, set: async () => undefined, delete: async () => undefined };
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('revtrail rates', () => {
  it('prints the status, refreshes by hand even twice a day, and reports a failure', async () => {
    let serve: () => Response = () => new Response(zipSync({ 'eurofxref-hist.csv': strToU8('Date,USD,\n2026-04-14,1.17,\n') }));
    const now = Date.parse('2026-04-14T18:30:00.250Z');
    const core = createCore({ dataDir: join(dir, 'a'), clock: { now: () => now }, log, secrets, fetch: (async () => serve()) as unknown as typeof fetch });
    try {
      await core.call('workspaces.add', { name: 'Shop' });
      expect(await ratesCommand(core, 'status', undefined)).toMatchObject({
        ok: true,
        text: 'ECB rates up to 2026-04-13 (the snapshot bundled with Revtrail): 29 currencies besides EUR, 6983 publication days.\nLast refresh: never; last attempt: never.',
      });
      for (let i = 0; i < 2; i++) {
        expect(await ratesCommand(core, 'refresh', 'shop')).toMatchObject({ ok: true, text: `ECB rates refreshed: newest day 2026-04-14, ${i === 0 ? 1 : 0} rates added or changed.` });
      }
      expect((await ratesCommand(core, 'status', undefined)).text).toBe(
        'ECB rates up to 2026-04-14 (downloaded from the ECB): 1 currencies besides EUR, 6984 publication days.\nLast refresh: 2026-04-14T18:30:00Z; last attempt: 2026-04-14T18:30:00Z.',
      );
      serve = () => new Response('down', { status: 502 });
      expect(await ratesCommand(core, 'refresh', undefined)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
      expect((await ratesCommand(core, 'status', undefined)).text).toMatch(/last attempt: 2026-04-14T18:30:00Z, failed: the ECB answered HTTP 502/);
    } finally {
      core.close();
    }
  });

  it('is wired into the revtrail command', async () => {
    const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'revtrail.mjs');
    const env = { ...process.env, REVTRAIL_HOME: join(dir, 'b'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'b-key', 'secrets.key') };
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => resolve({ code, out, err }));
      });
    expect(await run(['rates', 'status'])).toMatchObject({ code: 3 });
    expect((await run(['workspace', 'add', 'Shop'])).code).toBe(0);
    const status = await run(['rates', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ newestDay: '2026-04-13', source: 'snapshot', currencies: 29 });
  }, 60_000);
});
