import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../core';
import type { SecretStore } from '../secrets/types';

// fx.status and fx.refresh through the core, as the UI and the CLI call them.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-fx-handlers-'));
const secrets: SecretStore = { description: 'none (test)', get: async () => null, set: async () => undefined, delete: async () => undefined };
const warnings: string[] = [];
const log = { info: () => undefined, warn: (_o: object, m: string) => void warnings.push(m), error: () => undefined };
const now = Date.parse('2026-04-14T17:00:00Z');
let served: () => Promise<Response>;
const requested: string[] = [];
let core: Core;

// The bundled history's newest line with a new day in front: only that day is new.
const header = 'Date,USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,HRK,RUB,TRL,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,';
const day14 = '2026-04-14,1.17,186.9,N/A,N/A,24.378,7.4727,N/A,0.87058,366.9,N/A,N/A,N/A,4.2543,N/A,5.092,10.892,N/A,N/A,0.9242,143.2,11.098,N/A,N/A,N/A,52.2478,1.661,5.874,1.6177,7.9827,9.1507,20082.05,3.5787,109.047,1740.86,20.3203,4.6444,2.0081,70.356,1.4912,37.728,19.3849,';
const zip = zipSync({ 'eurofxref-hist.csv': strToU8(`${header}\n${day14}\n`) });

beforeAll(async () => {
  core = createCore({
    dataDir: dir,
    clock: { now: () => now },
    log,
    secrets,
    fetch: (async (url: string | URL | Request) => {
      requested.push(String(url));
      return served();
    }) as typeof fetch,
  });
  expect((await core.call('workspaces.add', { name: 'Shop' })).ok).toBe(true);
});
afterAll(() => {
  core.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Attribution rebuilds recorded in the workspace's database. */
function builds(): number {
  const ws = readdirSync(join(dir, 'workspaces'))[0]!;
  const db = new Database(join(dir, 'workspaces', ws, 'workspace.sqlite'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM attribution_build`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('fx handlers', () => {
  it('reports the bundled history before any refresh', async () => {
    expect(await core.call('fx.status', {})).toEqual({
      ok: true,
      value: { newestDay: '2026-04-13', source: 'snapshot', currencies: 29, days: 6983, lastAttemptAt: null, lastSuccessAt: null, lastError: null },
    });
  });

  it('records a failed refresh, keeps the rates and says so', async () => {
    served = async () => {
      throw new TypeError('fetch failed');
    };
    const r = await core.call('fx.refresh', {});
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('unavailable');
      expect(r.error.message).toMatch(/could not reach https:\/\/www\.ecb\.europa\.eu\/.*The rates up to 2026-04-13 are kept/);
    }
    expect(warnings).toEqual(['ecb rates refresh failed']);
    const status = await core.call('fx.status', {});
    expect(status).toMatchObject({ ok: true, value: { newestDay: '2026-04-13', source: 'snapshot', lastAttemptAt: now, lastSuccessAt: null } });
    expect(status.ok && status.value.lastError).toMatch(/fetch failed/);
  });

  it('refreshes from the ECB once a day, and again when forced', async () => {
    served = async () => new Response(zip);
    expect(builds()).toBe(0);
    expect(await core.call('fx.refresh', {})).toEqual({ ok: true, value: { refreshed: true, newestDay: '2026-04-14', written: 29 } });
    // New rates: the ledger is rebuilt, so rows converted provisionally take the day's own rate.
    expect(builds()).toBe(1);
    expect(await core.call('fx.status', {})).toEqual({
      ok: true,
      value: { newestDay: '2026-04-14', source: 'ecb', currencies: 29, days: 6984, lastAttemptAt: now, lastSuccessAt: now, lastError: null },
    });
    const calls = requested.length;
    expect(await core.call('fx.refresh', {})).toMatchObject({ ok: true, value: { refreshed: false } });
    expect(requested).toHaveLength(calls);
    expect(await core.call('fx.refresh', { force: true })).toEqual({ ok: true, value: { refreshed: true, newestDay: '2026-04-14', written: 0 } });
    expect(requested).toHaveLength(calls + 1);
  });

  it('refuses bad arguments and unknown workspaces', async () => {
    expect(await core.call('fx.refresh', { force: 'yes' as unknown as boolean })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await core.call('fx.status', { workspace: 'Other' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('a snapshot file the host names instead of the bundled history', () => {
  it('is the history a new workspace starts from', async () => {
    const elsewhere = join(dir, 'resources', 'eurofxref-hist.csv');
    mkdirSync(join(dir, 'resources'));
    writeFileSync(elsewhere, `${header}\n${day14}\n`);
    const packaged = createCore({ dataDir: join(dir, 'packaged'), clock: { now: () => now }, log, secrets, ratesSnapshotPath: elsewhere });
    try {
      expect((await packaged.call('workspaces.add', { name: 'Packaged' })).ok).toBe(true);
      expect(await packaged.call('fx.status', {})).toMatchObject({ ok: true, value: { newestDay: '2026-04-14', source: 'snapshot', days: 1 } });
    } finally {
      packaged.close();
    }
  });
});
