import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore } from '../core/secrets/encrypted-file';
import { createFileLogger, logFilePath, redactingStore } from './log-file';

const dir = mkdtempSync(join(tmpdir(), 'revtrail-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the log file', () => {
  it('writes JSON lines with no secret in them, whatever carries it', async () => {
    const dataDir = join(dir, 'data');
    const log = createFileLogger({ dataDir });
    const store = redactingStore(new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), join(dir, 'key')), log);
    const token = 'sync-token-kept-in-the-store-0123456789';
    await store.set('ws_1.redirector_token', token);
    const stripeKey = 'rk_test_51NeverSeenByTheStore0123456789';
    const b64 = Buffer.from(token).toString('base64');
    log.error({ err: new Error(`redirector refused ${token}`), header: `Bearer ${token}`, encoded: b64 }, `Stripe said: Invalid API Key provided: ${stripeKey}`);
    log.warn({ auth: 'Bearer some.other-opaque-token-value' }, 'a bearer header seen');

    const text = readFileSync(logFilePath(dataDir), 'utf8');
    for (const secret of [token, b64, Buffer.from(token).toString('hex'), stripeKey, 'some.other-opaque-token-value']) expect(text).not.toContain(secret);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { level: 'error', msg: 'Stripe said: Invalid API Key provided: [redacted]', err: { name: 'Error', message: 'redirector refused [redacted]' } },
      { level: 'warn', auth: 'Bearer [redacted]' },
    ]);
  });

  it('rotates at its size into .1 .. .N, keeping N', () => {
    const dataDir = join(dir, 'rotating');
    const log = createFileLogger({ dataDir, maxBytes: 400, keep: 2 });
    for (let i = 0; i < 40; i++) log.info({ i }, `line ${i} ${'x'.repeat(40)}`);
    const file = logFilePath(dataDir);
    expect([existsSync(file), existsSync(`${file}.1`), existsSync(`${file}.2`), existsSync(`${file}.3`)]).toEqual([true, true, true, false]);
    expect(readFileSync(file, 'utf8').length).toBeLessThanOrEqual(400);
    expect(readFileSync(file, 'utf8')).toContain('line 39');
  });
});
