// Test support: `revtrail` as a real process, the way a user runs it. Nothing shipped imports this.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'revtrail.mjs');

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the CLI with `env` over a clean slate (no token or key inherited), feeding `stdin`. */
export function runCli(args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, REVTRAIL_SYNC_TOKEN: '', REVTRAIL_STRIPE_KEY: '', REVTRAIL_WEBHOOK_SECRET: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(stdin);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}
