import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { openDatabase, type Db } from '../db/open';
import { approveDue } from './ledger';
import { createPayouts, markBatchPaid, previewPayouts } from './payouts';
import { batchItems } from './repo';
import { PAYOUT_HISTORY, PAYOUT_NOW, PAYOUT_PERIOD, seedPayoutLedger } from './testing-ledger';

// The payout runs of bench/payouts.ts at a small scale (120 partners, 15,000 lines), month by month and as one
// backlog run, against golden/payout-runs.json: batches, items, carry-forwards and every member line (as a
// digest). Written by the runs before they were made faster; a change of what a run pays fails here. After an
// intended change, regenerate with REVTRAIL_UPDATE_GOLDEN=1 and review the diff.

const GOLDEN = join(import.meta.dirname, 'golden', 'payout-runs.json');
const UPDATE = process.env.REVTRAIL_UPDATE_GOLDEN === '1';
const dir = mkdtempSync(join(tmpdir(), 'revtrail-payouts-golden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Time-ordered ids like the ledger's ULIDs, without their randomness. */
const lineId = (at: number, n: number) => `L${at.toString(36).padStart(10, '0')}${n.toString(36).padStart(6, '0')}`;
const digest = (rows: unknown[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 32);

function seeded(name: string): Db {
  const db = openDatabase(join(dir, `${name}.sqlite`));
  seedPayoutLedger(db, 120, 15_000, lineId);
  approveDue(db, PAYOUT_NOW - DAY_MS);
  return db;
}

function run(db: Db, period: string, at: number) {
  const preview = previewPayouts(db, period, at);
  const made = createPayouts(db, period, at);
  expect(made.batches.map((b) => [b.id, b.totalMinor])).toEqual(preview.batches.map((b) => [`po_${period}_${b.method}_${b.currency}`, b.totalMinor]));
  return {
    period,
    batches: made.batches.map((b) => {
      const members = db.prepare<[string], { line_id: string; partner_id: string; amount_minor: number }>(`SELECT line_id, partner_id, amount_minor FROM affiliate_batch_lines WHERE batch_id = ? ORDER BY line_id`).all(b.id);
      return {
        id: b.id,
        totalMinor: b.totalMinor,
        itemCount: b.itemCount,
        items: digest(batchItems(db, b.id)),
        members: members.length,
        membersMinor: members.reduce((n, m) => n + m.amount_minor, 0),
        memberLines: digest(members),
      };
    }),
    carried: made.carried.map((c) => `${c.partnerId} ${c.currency} ${c.balanceMinor} ${c.reason}`),
  };
}

describe('payout runs against the golden runs', () => {
  it('pay the same batches, items and lines, month by month and as one backlog run', () => {
    const monthly = seeded('monthly');
    const runs = PAYOUT_HISTORY.map((period) => {
      const at = Date.parse(`${period}-01T00:00:00Z`) + 32 * DAY_MS;
      const r = run(monthly, period, at);
      for (const b of r.batches) expect(markBatchPaid(monthly, b.id, `REF-${b.id}`, at + DAY_MS).ok).toBe(true);
      return r;
    });
    runs.push(run(monthly, PAYOUT_PERIOD, PAYOUT_NOW));
    monthly.close();
    const backlog = seeded('backlog');
    const actual = { monthly: runs, backlog: run(backlog, PAYOUT_PERIOD, PAYOUT_NOW) };
    backlog.close();
    expect(actual.backlog.batches.reduce((n, b) => n + b.members, 0)).toBeGreaterThan(10_000);
    if (UPDATE) {
      mkdirSync(join(GOLDEN, '..'), { recursive: true });
      writeFileSync(GOLDEN, `${JSON.stringify(actual, null, 1)}\n`);
    }
    expect(existsSync(GOLDEN), 'golden/payout-runs.json is missing: run with REVTRAIL_UPDATE_GOLDEN=1').toBe(true);
    expect(actual).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });
});
