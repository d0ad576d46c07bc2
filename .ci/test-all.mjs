// Runs every workspace's test suite and ends with one line summing them all:
// "N passed, N failed" (", N skipped" when any test was skipped). Exit code 1 when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaces = ['shared', 'redirector', 'desktop'];
const outDir = mkdtempSync(join(tmpdir(), 'revtrail-tests-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let broken = false;

for (const ws of workspaces) {
  const report = join(outDir, `${ws}.json`);
  console.log(`\n=== ${ws} ===`);
  const run = spawnSync(
    'npx',
    ['vitest', 'run', '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { cwd: join(root, ws), stdio: 'inherit', env: process.env },
  );
  if (!existsSync(report)) {
    console.error(`${ws}: the test run produced no report (exit ${run.status}); counted as one failure.`);
    totals.failed += 1;
    broken = true;
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += r.numPendingTests + r.numTodoTests;
  // A suite that fails to load (syntax error, missing module) has no failed test but a failed file.
  const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed'));
  if (brokenFiles.length > 0) {
    totals.failed += brokenFiles.length;
    for (const f of brokenFiles) console.error(`${ws}: ${f.name} failed to run: ${f.message}`);
  }
  if (run.status !== 0 && r.numFailedTests === 0 && brokenFiles.length === 0) broken = true;
}

const line = `${totals.passed} passed, ${totals.failed} failed` + (totals.skipped ? `, ${totals.skipped} skipped` : '');
console.log(`\n${line}`);
process.exit(totals.failed > 0 || broken ? 1 : 0);
