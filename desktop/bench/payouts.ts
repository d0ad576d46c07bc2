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
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAY_MS } from '@revtrail/shared';
import { approveDue } from '../src/core/affiliates/ledger';
import { createPayouts, markBatchPaid, previewPayouts } from '../src/core/affiliates/payouts';
import { PAYOUT_HISTORY as HISTORY, PAYOUT_NOW as NOW, PAYOUT_PERIOD as PERIOD, seedPayoutLedger } from '../src/core/affiliates/testing-ledger';
import { openDatabase, type Db } from '../src/core/db/open';

const RESULTS = fileURLToPath(new URL('./results/payouts.json', import.meta.url));
const TARGET_MS = 5000;
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

interface RunFigures {
  plainSumMs: number;
  plainSumGroups: number;
  previewMs: number;
  runMs: number;
  /** CPU time of this process during the run: the figure other work on the machine does not inflate. */
  runCpuMs: number;
  ratioRunToPlainSum: number;
  /** The load average (1, 5, 15 min) when the run started. */
  loadAverage: string;
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
  const loadAverage = load();
  const cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  const run = createPayouts(db, PERIOD, NOW);
  const runMs = ms(t);
  const used = process.cpuUsage(cpu);
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
    runCpuMs: tenth((used.user + used.system) / 1000),
    ratioRunToPlainSum: tenth(runMs / plainSumMs),
    loadAverage,
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
      counts = seedPayoutLedger(db, partners, lines);
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
      `  (the run's CPU time ${f(r.runCpuMs)}; load average ${r.loadAverage} on ${cpus().length} CPUs when it started)`,
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
