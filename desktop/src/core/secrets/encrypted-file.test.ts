import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore } from './encrypted-file';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'revtrail-secrets-'));
  dirs.push(d);
  return d;
};

describe('EncryptedFileSecretStore', () => {
  it('keeps secrets encrypted under a 0600 key kept elsewhere, and reads them back', async () => {
    const d = tmp();
    const store = new EncryptedFileSecretStore(join(d, 'data', 'secrets.enc'), join(d, 'config', 'secrets.key'));
    await store.set('ws_1.redirector_token', 'tok-very-secret-value');
    await store.set('ws_1.stripe_key', 'rk_test_abc');
    await store.delete('ws_1.stripe_key');
    expect(await store.get('ws_1.redirector_token')).toBe('tok-very-secret-value');
    expect(await store.get('ws_1.stripe_key')).toBeNull();
    expect(readFileSync(join(d, 'data', 'secrets.enc')).includes('tok-very-secret-value')).toBe(false);
    expect(statSync(join(d, 'data', 'secrets.enc')).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'config', 'secrets.key')).mode & 0o777).toBe(0o600);
    const again = new EncryptedFileSecretStore(join(d, 'data', 'secrets.enc'), join(d, 'config', 'secrets.key'));
    expect(await again.get('ws_1.redirector_token')).toBe('tok-very-secret-value');
  });

  it('says clearly when the key does not open the file, and never shows the contents', async () => {
    const d = tmp();
    const store = new EncryptedFileSecretStore(join(d, 'secrets.enc'), join(d, 'k1'));
    await store.set('x', 'hidden-value');
    writeFileSync(join(d, 'k2'), Buffer.alloc(32, 7), { mode: 0o600 });
    const other = new EncryptedFileSecretStore(join(d, 'secrets.enc'), join(d, 'k2'));
    await expect(other.get('x')).rejects.toThrow(/cannot be decrypted.*Reconnect/);
    await expect(other.get('x')).rejects.not.toThrow(/hidden-value/);
  });
});
