import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SafeStorageSecretStore, type SafeStorageLike } from './safe-storage';
import { SecretUnreadableError } from './types';

/** A stand-in keychain: XOR with a per-instance key, enough to prove the file never holds plaintext. */
function keychain(opts: { available?: boolean; backend?: string; key?: number } = {}): SafeStorageLike {
  const k = opts.key ?? 0x5a;
  const flip = (b: Buffer) => Buffer.from(b.map((x) => x ^ k));
  return {
    isEncryptionAvailable: () => opts.available ?? true,
    encryptString: (s) => Buffer.concat([Buffer.from('v10'), flip(Buffer.from(s, 'utf8'))]),
    decryptString: (b) => {
      if (b.subarray(0, 3).toString() !== 'v10' || k !== (opts.key ?? 0x5a)) throw new Error('bad');
      return flip(b.subarray(3)).toString('utf8');
    },
    ...(opts.backend ? { getSelectedStorageBackend: () => opts.backend! } : {}),
  };
}

describe('SafeStorageSecretStore', () => {
  const dirs: string[] = [];
  const file = () => {
    const d = mkdtempSync(join(tmpdir(), 'revtrail-safe-'));
    dirs.push(d);
    return join(d, 'secrets.safe.json');
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('round-trips secrets, keeps only ciphertext on disk, mode 0600', async () => {
    const path = file();
    const store = new SafeStorageSecretStore(keychain({ backend: 'gnome_libsecret' }), path, 'gnome_libsecret');
    await store.set('ws_1.stripe_key', 'rk_test_supersecret');
    await store.set('ws_1.redirector_token', 'tok');
    expect(await store.get('ws_1.stripe_key')).toBe('rk_test_supersecret');
    expect(await store.get('missing')).toBeNull();
    expect(readFileSync(path, 'utf8')).not.toContain('supersecret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.delete('ws_1.stripe_key');
    expect(await store.get('ws_1.stripe_key')).toBeNull();
    expect(await new SafeStorageSecretStore(keychain(), path).get('ws_1.redirector_token')).toBe('tok');
    expect(store.description).toMatch(/safeStorage \(gnome_libsecret\)/);
  });

  it('refuses to store where there is no keychain, or only the fixed-key fallback', async () => {
    await expect(new SafeStorageSecretStore(keychain({ available: false }), file()).set('a', 'b')).rejects.toThrow(/no keychain/);
    await expect(new SafeStorageSecretStore(keychain({ backend: 'basic_text' }), file()).set('a', 'b')).rejects.toThrow(/gnome-keyring or KWallet/);
  });

  it('says what to do when another keychain encrypted the file', async () => {
    const path = file();
    await new SafeStorageSecretStore(keychain(), path).set('ws_1.stripe_key', 'rk_test_x');
    const other: SafeStorageLike = { ...keychain(), decryptString: () => { throw new Error('Error while decrypting the ciphertext'); } };
    await expect(new SafeStorageSecretStore(other, path).get('ws_1.stripe_key')).rejects.toThrow(SecretUnreadableError);
  });
});
