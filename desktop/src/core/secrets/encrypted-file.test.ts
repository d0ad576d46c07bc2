import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore } from './encrypted-file';
import { SecretUnreadableError } from './types';

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
    await expect(other.get('x')).rejects.toThrow(SecretUnreadableError);
    await expect(other.get('x')).rejects.not.toThrow(/hidden-value/);
  });

  it('an entry the key cannot open is replaced on its own; every other entry is left as it was', async () => {
    const d = tmp();
    const file = join(d, 'secrets.enc');
    await new EncryptedFileSecretStore(file, join(d, 'k1')).set('ws_1.stripe_key', 'rk_test_first-key-value');
    const before = (JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, string> }).entries['ws_1.stripe_key'];
    const other = new EncryptedFileSecretStore(file, join(d, 'k2'));
    await other.set('ws_1.redirector_token', 'tok-under-the-second-key');
    expect(await other.get('ws_1.redirector_token')).toBe('tok-under-the-second-key');
    await expect(other.get('ws_1.stripe_key')).rejects.toMatchObject({ secretName: 'ws_1.stripe_key' });
    expect((JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, string> }).entries['ws_1.stripe_key']).toBe(before);
    await other.set('ws_1.stripe_key', 'rk_test_reconnected');
    expect(await other.get('ws_1.stripe_key')).toBe('rk_test_reconnected');
  });

  it('reads a version 1 file (one sealed blob) and rewrites it per entry; one it cannot open is kept aside', async () => {
    const d = tmp();
    const key = randomBytes(32);
    writeFileSync(join(d, 'k'), key, { mode: 0o600 });
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ 'ws_1.stripe_key': 'rk_test_from-version-one' }), 'utf8'), cipher.final()]);
    writeFileSync(join(d, 'secrets.enc'), Buffer.concat([iv, cipher.getAuthTag(), body]));
    const store = new EncryptedFileSecretStore(join(d, 'secrets.enc'), join(d, 'k'));
    expect(await store.get('ws_1.stripe_key')).toBe('rk_test_from-version-one');
    await store.set('ws_1.redirector_token', 'tok-added-later');
    expect(JSON.parse(readFileSync(join(d, 'secrets.enc'), 'utf8'))).toMatchObject({ v: 2 });
    expect(await store.get('ws_1.stripe_key')).toBe('rk_test_from-version-one');

    writeFileSync(join(d, 'secrets.enc'), Buffer.concat([iv, cipher.getAuthTag(), body]));
    const stranger = new EncryptedFileSecretStore(join(d, 'secrets.enc'), join(d, 'other-key'));
    await expect(stranger.get('ws_1.stripe_key')).rejects.toThrow(SecretUnreadableError);
    await stranger.set('ws_1.stripe_key', 'rk_test_new');
    expect(readdirSync(d).filter((f) => f.startsWith('secrets.enc.unreadable-'))).toHaveLength(1);
    expect(existsSync(join(d, 'secrets.enc'))).toBe(true);
  });
});
