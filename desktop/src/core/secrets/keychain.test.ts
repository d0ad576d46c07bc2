import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { chooseSecretStore } from './choose';
import { KeychainSecretStore } from './keychain';

// A stand-in `secret-tool` speaking the real one's command line (store reads the secret from stdin; lookup
// and clear exit 1 silently when nothing matches), which logs every argv so the test can see no secret in it.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-keychain-'));
const bin = join(dir, 'bin');
const keyring = join(dir, 'keyring.json');
const argvLog = join(dir, 'argv.log');
mkdirSync(bin);
writeFileSync(
  join(bin, 'secret-tool'),
  `#!/usr/bin/env node
const fs = require('fs');
const [cmd, ...rest] = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(argvLog)}, JSON.stringify(process.argv.slice(2)) + '\\n');
if (process.env.FAKE_KEYRING_DOWN) { process.stderr.write('Cannot autolaunch D-Bus without X11 $DISPLAY\\n'); process.exit(1); }
const db = fs.existsSync(${JSON.stringify(keyring)}) ? JSON.parse(fs.readFileSync(${JSON.stringify(keyring)}, 'utf8')) : {};
const attrs = rest.filter((a) => !a.startsWith('--')).join('|');
if (cmd === 'store') {
  db[attrs] = fs.readFileSync(0, 'utf8');
  fs.writeFileSync(${JSON.stringify(keyring)}, JSON.stringify(db));
} else if (cmd === 'lookup') {
  if (!(attrs in db)) process.exit(1);
  process.stdout.write(db[attrs]);
} else if (cmd === 'clear') {
  if (!(attrs in db)) process.exit(1);
  delete db[attrs];
  fs.writeFileSync(${JSON.stringify(keyring)}, JSON.stringify(db));
} else process.exit(2);
`,
);
chmodSync(join(bin, 'secret-tool'), 0o755);
const env = { PATH: `${bin}:/usr/bin:/bin` };
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  rmSync(keyring, { force: true });
  delete process.env.FAKE_KEYRING_DOWN;
});

describe('KeychainSecretStore (Secret Service through secret-tool)', () => {
  it('stores, reads and deletes, passing the secret only on stdin', async () => {
    const store = await KeychainSecretStore.detect({ platform: 'linux', env });
    expect(store).not.toBeNull();
    const secret = 'rk_test_51SecretValueNeverInArgv';
    await store!.set('ws_1.stripe_key', secret);
    expect(await store!.get('ws_1.stripe_key')).toBe(secret);
    expect(await store!.get('ws_1.other')).toBeNull();
    await store!.delete('ws_1.stripe_key');
    expect(await store!.get('ws_1.stripe_key')).toBeNull();
    await store!.delete('ws_1.stripe_key');
    expect(readFileSync(argvLog, 'utf8')).not.toContain(secret);
    expect(store!.description).toContain('Secret Service');
  });

  it('is not offered where the tool is missing, the keyring does not answer, or on Windows', async () => {
    expect(await KeychainSecretStore.detect({ platform: 'linux', env: { PATH: '/nonexistent' } })).toBeNull();
    expect(await KeychainSecretStore.detect({ platform: 'win32', env })).toBeNull();
    process.env.FAKE_KEYRING_DOWN = '1';
    expect(await KeychainSecretStore.detect({ platform: 'linux', env })).toBeNull();
  });
});

describe('chooseSecretStore', () => {
  const keyFile = join(dir, 'key', 'secrets.key');

  it('takes the keychain for a new data directory and stays with it; says so when it stops answering', async () => {
    const dataDir = join(dir, 'new');
    const first = await chooseSecretStore({ dataDir, keyFile, platform: 'linux', env });
    expect(first.ok && first.value.description).toContain('Secret Service');
    expect(readFileSync(join(dataDir, 'secrets-backend'), 'utf8').trim()).toBe('keychain');
    process.env.FAKE_KEYRING_DOWN = '1';
    const down = await chooseSecretStore({ dataDir, keyFile, platform: 'linux', env });
    expect(down).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('keeps the encrypted file where it is already used, where asked, and where no keychain answers', async () => {
    const existing = join(dir, 'existing');
    mkdirSync(existing);
    writeFileSync(join(existing, 'secrets.enc'), '');
    const kept = await chooseSecretStore({ dataDir: existing, keyFile, platform: 'linux', env });
    expect(kept.ok && kept.value.description).toContain('encrypted file');

    const asked = await chooseSecretStore({ dataDir: join(dir, 'asked'), keyFile, platform: 'linux', env, prefer: 'file' });
    expect(asked.ok && asked.value.description).toContain('encrypted file');

    const none = await chooseSecretStore({ dataDir: join(dir, 'none'), keyFile, platform: 'linux', env: { PATH: '/nonexistent' } });
    expect(none.ok && none.value.description).toContain('encrypted file');
    expect(existsSync(join(dir, 'none', 'secrets-backend'))).toBe(true);
    const forced = await chooseSecretStore({ dataDir: join(dir, 'forced'), keyFile, platform: 'linux', env: { PATH: '/nonexistent' }, prefer: 'keychain' });
    expect(forced).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const typo = await chooseSecretStore({ dataDir: join(dir, 'typo'), keyFile, platform: 'linux', env, prefer: 'keyring' });
    expect(typo).toMatchObject({ ok: false, error: { code: 'invalid_input', message: 'REVTRAIL_SECRETS must be keychain, safe-storage or file.' } });
  });
});
