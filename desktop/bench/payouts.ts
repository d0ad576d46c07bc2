/**
 * npm run bench:payouts [-- --partners N --lines N] — payout runs (payouts.create: approvals due, balances,
 * carry-forwards, one batch per method and currency, every payable line made a batch member and summed
 * back) over 10k partners and a ledger of 1M commission lines (a year of sales, with reversals and
 * clawbacks) on an on-disk workspace database, each beside a plain SQL sum of the same 1M rows per partner
 * and currency measured in the same run:
 *   month-end: the eleven earlier months were paid by earlier runs (run and marked paid here, untimed), so
 *              the run pays March's approved lines and what was carried forward: the monthly case;
 *   backlog:   nothing was ever paid, so one run pays the whole year at once: the worst case.
 * The preview (the same arithmetic without writing) is timed too. It reports; a missed target still exits
 * 0. A harness failure exits 1. `--seeded FILE` keeps the seeded database there and reuses it on the next
 * run (seeding a million lines through the ledger's own insert takes minutes).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAY_MS, newSortKey } from '@revtrail/shared';
import type { ProgramRules } from '@revtrail/shared/commission/index';
import { approveDue } from '../src/core/affiliates/ledger';
import { createPayouts, markBatchPaid, previewPayouts } from '../src/core/affiliates/payouts';
import { insertLine, insertPartner, insertProgram, type NewLine } from '../src/core/affiliates/repo';
import { openDatabase, type Db } from '../src/core/db/open';

const RESULTS = fileURLToPath(new URL('./results/payouts.json', import.meta.url));
const TARGET_MS = 5000;
const PERIOD = '2026-03';
const NOW = Date.parse('2026-04-01T06:00:00Z');
const YEAR_START = Date.parse('2025-04-01T00:00:00Z');
const HISTORY = ['2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01', '2026-02'];

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

/**
 * One program, `partners` partners (PayPal 70%, Wise 20%, by hand 10%; 2% paused) and `lines` ledger lines
 * over the year to the period's end: commissions in USD and EUR (1% self-referrals; those of March's last
 * 30 days still in their holding period), and reversals (4%) and clawbacks (2%) against earlier ones.
 */
function seed(db: Db, partners: number, lines: number): { commissions: number; reversals: number; clawbacks: number } {
  const rand = prng(20260401);
  const rules: ProgramRules = { rate: { kind: 'percent', basisPoints: 2000 }, basis: 'net', duration: { kind: 'lifetime', count: null }, holdingDays: 30, minimums: { USD: 5000, EUR: 5000 }, cookieDays: 30, binding: 'first_click' };
  insertProgram(db, { id: 'prg_bench', name: 'Bench', rules, startsAt: 0, createdAt: 0 });
  db.transaction(() => {
    for (let i = 0; i < partners; i++) {
      const r = rand();
      const method = r < 0.7 ? 'paypal' : r < 0.9 ? 'wise' : 'manual';
      const id = `p${String(i).padStart(5, '0')}`;
      insertPartner(db, {
        id,
        programId: 'prg_bench',
        name: `Partner ${i}`,
        email: `${id}@example.com`,
        paypalEmail: method === 'paypal' ? `${id}@example.com` : null,
        wise: method === 'wise' ? { email: `${id}@example.com`, name: null, receiverType: 'PERSON', currency: null } : null,
        payoutMethod: method,
        country: 'DE',
        status: rand() < 0.02 ? 'paused' : 'active',
        ownVisitorIds: [],
        override: null,
        createdAt: 0,
        updatedAt: 0,
      });
    }
  })();
  const counts = { commissions: 0, reversals: 0, clawbacks: 0 };
  const earlier = new Map<number, { id: string; currency: string; amount: number; base: number; availableAt: number }[]>();
  const periodEnd = Date.parse('2026-04-01T00:00:00Z');
  const span = periodEnd - YEAR_START;
  const CHUNK = 50_000;
  for (let done = 0; done < lines; done += CHUNK) {
    db.transaction(() => {
      for (let n = done; n < Math.min(lines, done + CHUNK); n++) {
        const p = Math.floor(rand() * partners);
        const partnerId = `p${String(p).padStart(5, '0')}`;
        // When the line becomes payable: a charge 30 days before, for a commission.
        const at = YEAR_START + 30 * DAY_MS + Math.floor(rand() * (span - 30 * DAY_MS));
        const previous = earlier.get(p);
        const r = rand();
        const base: Omit<NewLine, 'id' | 'kind' | 'cause' | 'dedupeKey' | 'sourceId' | 'commissionId' | 'baseMinor' | 'amountMinor' | 'currency' | 'occurredAt' | 'availableAt'> = {
          partnerId,
          programId: 'prg_bench',
          customerKey: `cus_${n}`,
          chargeId: `ch_${n}`,
          touchpointId: `click_${n}`,
          terms: rules,
          selfReferral: null,
          createdAt: at,
        };
        if (previous && r < 0.06) {
          const c = previous[Math.floor(rand() * previous.length)]!;
          const clawback = r < 0.02;
          const lost = Math.max(1, Math.floor(c.base * rand() * 0.5));
          insertLine(db, {
            ...base,
            id: newSortKey(at),
            kind: clawback ? 'clawback' : 'reversal',
            cause: 'refund',
            dedupeKey: `takeback:re_${n}`,
            chargeId: `ch_of_${c.id}`,
            sourceId: `re_${n}`,
            commissionId: c.id,
            baseMinor: lost,
            amountMinor: -Math.min(c.amount, Math.round((c.amount * lost) / c.base)),
            currency: c.currency,
            occurredAt: at,
            availableAt: clawback ? at : c.availableAt,
          });
          counts[clawback ? 'clawbacks' : 'reversals'] += 1;
          continue;
        }
        const amount = 1000 + Math.floor(rand() * 20000);
        const id = newSortKey(at);
        const currency = rand() < 0.8 ? 'USD' : 'EUR';
        insertLine(db, {
          ...base,
          id,
          kind: 'commission',
          cause: 'charge',
          dedupeKey: `commission:ch_${n}`,
          sourceId: `ch_${n}`,
          commissionId: null,
          baseMinor: amount * 5,
          amountMinor: amount,
          currency,
          occurredAt: at - 30 * DAY_MS,
          availableAt: at,
          selfReferral: rand() < 0.01 ? "the buyer's email is the partner's own" : null,
        });
        counts.commissions += 1;
        const entry = { id, currency, amount, base: amount * 5, availableAt: at };
        if (!previous) earlier.set(p, [entry]);
        else if (previous.length < 8) previous.push(entry);
      }
    })();
  }
  return counts;
}

interface RunFigures {
  plainSumMs: number;
  plainSumGroups: number;
  previewMs: number;
  runMs: number;
  ratioRunToPlainSum: number;
  batches: { id: string; items: number; totalMinor: number }[];
  partnersPaid: number;
  linesInBatches: number;
  carried: { reason: string; partners: number }[];
}

/** The plain sum of every line, the period's preview, then its run; the run must pay what the preview said. */
function timeRun(db: Db): RunFigures {
  // The reference at its fastest, one straight pass over the lines: without statistics SQLite would rather
  // walk the partner index and fetch every row from it, many times slower.
  let t = process.hrtime.bigint();
  const plain = db.prepare(`SELECT partner_id, currency, sum(amount_minor) AS amount FROM affiliate_lines NOT INDEXED GROUP BY partner_id, currency`).all();
  const plainSumMs = ms(t);
  t = process.hrtime.bigint();
  const preview = previewPayouts(db, PERIOD, NOW);
  const previewMs = ms(t);
  const before = (db.prepare(`SELECT count(*) AS n FROM affiliate_batch_lines`).get() as { n: number }).n;
  t = process.hrtime.bigint();
  const run = createPayouts(db, PERIOD, NOW);
  const runMs = ms(t);
  const after = (db.prepare(`SELECT count(*) AS n FROM affiliate_batch_lines`).get() as { n: number }).n;
  const paid = run.batches.reduce((s, b) => s + b.totalMinor, 0);
  const previewed = preview.batches.reduce((s, b) => s + b.totalMinor, 0);
  if (paid !== previewed) throw new Error(`the run paid ${paid}, the preview said ${previewed}`);
  const tenth = (x: number) => Math.round(x * 10) / 10;
  return {
    plainSumMs: tenth(plainSumMs),
    plainSumGroups: plain.length,
    previewMs: tenth(previewMs),
    runMs: tenth(runMs),
    ratioRunToPlainSum: tenth(runMs / plainSumMs),
    batches: run.batches.map((b) => ({ id: b.id, items: b.itemCount, totalMinor: b.totalMinor })),
    partnersPaid: run.batches.reduce((s, b) => s + b.itemCount, 0),
    linesInBatches: after - before,
    carried: [...new Set(run.carried.map((c) => c.reason))].map((reason) => ({ reason, partners: run.carried.filter((c) => c.reason === reason).length })),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { partners: { type: 'string' }, lines: { type: 'string' }, seeded: { type: 'string' } } });
  const partners = Number(values.partners ?? 10_000);
  const lines = Number(values.lines ?? 1_000_000);
  const work = mkdtempSync(join(tmpdir(), 'revtrail-bench-payouts-'));
  try {
    const file = join(work, 'workspace.sqlite');
    let t = process.hrtime.bigint();
    const reused = values.seeded !== undefined && existsSync(values.seeded);
    if (reused) copyFileSync(values.seeded!, file);
    let db = openDatabase(file);
    let counts = { commissions: 0, reversals: 0, clawbacks: 0 };
    if (!reused) {
      counts = seed(db, partners, lines);
      // Approvals arrive sync by sync through the month; the run itself finds only the last day's due.
      approveDue(db, NOW - DAY_MS);
      if (values.seeded) {
        db.close();
        copyFileSync(file, values.seeded);
        db = openDatabase(file);
      }
    } else {
      for (const r of db.prepare(`SELECT kind, count(*) AS n FROM affiliate_lines GROUP BY kind`).all() as { kind: 'commission' | 'reversal' | 'clawback'; n: number }[]) {
        counts[`${r.kind === 'commission' ? 'commissions' : r.kind === 'reversal' ? 'reversals' : 'clawbacks'}`] = r.n;
      }
    }
    const seedMs = ms(t);
    const total = (db.prepare(`SELECT count(*) AS n FROM affiliate_lines`).get() as { n: number }).n;
    if (total !== lines) throw new Error(`the database has ${total} lines, wanted ${lines}`);

    // The backlog scenario runs on a copy of the seeded database, before any payout.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const backlogFile = join(work, 'backlog.sqlite');
    copyFileSync(file, backlogFile);

    t = process.hrtime.bigint();
    for (const period of HISTORY) {
      const at = Date.parse(`${period}-01T00:00:00Z`) + 32 * DAY_MS;
      const made = createPayouts(db, period, at);
      for (const b of made.batches) {
        const paid = markBatchPaid(db, b.id, `REF-${b.id}`, at + DAY_MS);
        if (!paid.ok) throw new Error(paid.error.message);
      }
    }
    const historyMs = ms(t);
    db.pragma('wal_checkpoint(TRUNCATE)');

    const monthEnd = timeRun(db);
    db.close();
    const backlogDb = openDatabase(backlogFile);
    const backlog = timeRun(backlogDb);
    backlogDb.close();

    const results = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', os: `${platform()} ${release()} ${arch()}`, memoryBytes: totalmem(), node: process.version },
      data: { partners, lines, ...counts, period: PERIOD },
      seedMs: reused ? null : Math.round(seedMs),
      historyMs: Math.round(historyMs),
      monthEnd,
      backlog,
      target: { runMaxMs: TARGET_MS, monthEndPass: monthEnd.runMs < TARGET_MS, backlogPass: backlog.runMs < TARGET_MS },
    };
    mkdirSync(join(RESULTS, '..'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    const f = (n: number) => `${n.toLocaleString('en-US', { maximumFractionDigits: 1 })} ms`;
    const n = (x: number) => x.toLocaleString('en-US');
    const block = (name: string, r: RunFigures, pass: boolean) => [
      `${name}`,
      `  plain SQL sum of all ${n(lines)} lines per partner and currency ${f(r.plainSumMs).padStart(12)}   (${n(r.plainSumGroups)} groups; reference)`,
      `  payout preview (no writes)                                ${f(r.previewMs).padStart(12)}`,
      `  payout run (payouts.create)                               ${f(r.runMs).padStart(12)}   ${r.ratioRunToPlainSum}x the plain sum  (target < ${f(TARGET_MS)}) ${pass ? 'PASS' : 'FAIL'}`,
      `  ${r.batches.length} batches, ${n(r.partnersPaid)} partners paid, ${n(r.linesInBatches)} lines made batch members; carried forward: ${r.carried.map((c) => `${c.partners} ${c.reason}`).join(', ') || 'none'}`,
    ];
    console.log(
      [
        '',
        `Revtrail payout run benchmark  ${results.date}`,
        `Machine: ${results.machine.cpus} CPUs (${results.machine.cpuModel}), ${results.machine.os}, Node ${results.machine.node}`,
        `Data: ${n(partners)} partners, ${n(lines)} ledger lines over a year (${n(counts.commissions)} commissions, ${n(counts.reversals)} reversals, ` +
          `${n(counts.clawbacks)} clawbacks), ${reused ? `reused from ${values.seeded}` : `seeded in ${f(seedMs)}`}; eleven monthly runs paid in ${f(historyMs)} (untimed)`,
        '',
        ...block(`Month-end run for ${PERIOD} (earlier months paid)`, monthEnd, results.target.monthEndPass),
        '',
        ...block(`Backlog run for ${PERIOD} (nothing paid before: the whole year at once)`, backlog, results.target.backlogPass),
        '',
        `Results: ${RESULTS}`,
      ].join('\n'),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
