import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseSecretStore, SECRETS_MARKER } from './choose';
import { EncryptedFileSecretStore } from './encrypted-file';
import type { SafeStorageLike } from './safe-storage';

const dir = mkdtempSync(join(tmpdir(), 'revtrail-choose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No keychain on PATH, so each case decides between safeStorage and the file.
const noKeychain = { env: { PATH: '/nonexistent' }, platform: 'linux' as const };
/** A stand-in for Electron's safeStorage (XOR), enough to tell its file from the encrypted file. */
const safeStorage = (backend = 'gnome_libsecret'): SafeStorageLike => ({
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => backend,
  encryptString: (s) => Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a)),
  decryptString: (b) => Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'),
});
const keyFile = join(dir, 'config', 'secrets.key');

describe('one secret store per data folder, whichever program opens it', () => {
  it('a folder written by the CLI reads the same in browser mode and in the app (safeStorage offered)', async () => {
    const dataDir = join(dir, 'cli-first');
    const cli = await chooseSecretStore({ dataDir, keyFile, ...noKeychain });
    if (!cli.ok) throw new Error(cli.error.message);
    await cli.value.set('ws_1.stripe_key', 'rk_test_written-by-the-cli');
    expect(readFileSync(join(dataDir, SECRETS_MARKER), 'utf8')).toBe(`file\n${keyFile}\n`);

    const browser = await chooseSecretStore({ dataDir, keyFile: join(dir, 'elsewhere.key'), ...noKeychain });
    const app = await chooseSecretStore({ dataDir, keyFile: join(dir, 'app-default.key'), safeStorage: safeStorage(), ...noKeychain });
    for (const shell of [browser, app]) {
      expect(shell.ok && (await shell.value.get('ws_1.stripe_key'))).toBe('rk_test_written-by-the-cli');
    }
  });

  it('safeStorage only for a new folder the app opens with no keychain; the CLI then says to use the app', async () => {
    const dataDir = join(dir, 'app-first');
    const app = await chooseSecretStore({ dataDir, keyFile, safeStorage: safeStorage(), ...noKeychain });
    if (!app.ok) throw new Error(app.error.message);
    expect(app.value.description).toContain('safeStorage');
    await app.value.set('ws_1.redirector_token', 'tok-kept-by-the-app');
    expect(readFileSync(join(dataDir, SECRETS_MARKER), 'utf8')).toBe('safe-storage\n');
    const again = await chooseSecretStore({ dataDir, keyFile, safeStorage: safeStorage(), ...noKeychain });
    expect(again.ok && (await again.value.get('ws_1.redirector_token'))).toBe('tok-kept-by-the-app');

    const cli = await chooseSecretStore({ dataDir, keyFile, ...noKeychain });
    expect(cli).toMatchObject({ ok: false, error: { code: 'secret_unreadable', message: expect.stringMatching(/open this data folder in the app/) } });
    // Linux without a keyring: safeStorage's fixed key protects nothing, so the app takes the file.
    const bare = await chooseSecretStore({ dataDir: join(dir, 'bare'), keyFile, safeStorage: safeStorage('basic_text'), ...noKeychain });
    expect(bare.ok && bare.value.description).toContain('encrypted file');
  });

  it("finds an unmarked secrets.enc under the old app's key and marks the folder with it", async () => {
    const dataDir = join(dir, 'old-app');
    const oldKey = join(dir, 'Revtrail-keys', 'secrets.key');
    await new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), oldKey).set('ws_1.stripe_key', 'rk_test_from-the-old-app');
    const app = await chooseSecretStore({ dataDir, keyFile, legacyKeyFiles: [oldKey], safeStorage: safeStorage(), ...noKeychain });
    expect(app.ok && (await app.value.get('ws_1.stripe_key'))).toBe('rk_test_from-the-old-app');
    expect(readFileSync(join(dataDir, SECRETS_MARKER), 'utf8')).toBe(`file\n${oldKey}\n`);
    const cli = await chooseSecretStore({ dataDir, keyFile, ...noKeychain });
    expect(cli.ok && (await cli.value.get('ws_1.stripe_key'))).toBe('rk_test_from-the-old-app');
  });

  it('a data folder on a read-only disk gets a clear message', async () => {
    // root writes through any mode bits: it gets a folder under /sys, which the kernel keeps read-only.
    const asRoot = process.getuid?.() === 0;
    const dataDir = asRoot ? '/sys/revtrail-read-only' : join(dir, 'read-only');
    if (!asRoot) {
      mkdirSync(dataDir);
      chmodSync(dataDir, 0o555);
    }
    const r = await chooseSecretStore({ dataDir, keyFile, ...noKeychain });
    expect(r).toMatchObject({ ok: false, error: { code: 'read_only', message: expect.stringMatching(/cannot write to its data folder.*--data-dir/) } });
  });

  it('a marker it cannot read is named, not guessed around', async () => {
    const dataDir = join(dir, 'typo');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, SECRETS_MARKER), 'keyring\n');
    expect(await chooseSecretStore({ dataDir, keyFile, ...noKeychain })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });
});
