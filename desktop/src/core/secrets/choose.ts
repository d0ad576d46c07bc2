import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '@revtrail/shared';
import { EncryptedFileSecretStore } from './encrypted-file';
import { KeychainSecretStore, type Runner } from './keychain';
import type { SecretStore } from './types';

export type SecretBackend = 'keychain' | 'file';

const MARKER = 'secrets-backend';

/**
 * Picks where the CLI and browser mode keep secrets, once per data directory: the OS keychain where it
 * answers, else the encrypted file. The choice is written beside the data (`secrets-backend`) so a later
 * run never looks in the other place; a data directory that already has the encrypted file keeps it.
 * `prefer` (REVTRAIL_SECRETS at the edge) forces one for a new data directory.
 */
export async function chooseSecretStore(opts: {
  dataDir: string;
  keyFile: string;
  /** REVTRAIL_SECRETS as given: keychain, file, or empty/absent for the default. */
  prefer?: string;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  run?: Runner;
}): Promise<Result<SecretStore>> {
  if (opts.prefer !== undefined && opts.prefer !== '' && opts.prefer !== 'keychain' && opts.prefer !== 'file') {
    return err('invalid_input', 'REVTRAIL_SECRETS must be keychain or file.');
  }
  const file = () => new EncryptedFileSecretStore(join(opts.dataDir, 'secrets.enc'), opts.keyFile);
  const markerPath = join(opts.dataDir, MARKER);
  const recorded = existsSync(markerPath) ? readFileSync(markerPath, 'utf8').trim() : null;
  const remember = (backend: SecretBackend) => {
    mkdirSync(opts.dataDir, { recursive: true });
    writeFileSync(markerPath, `${backend}\n`);
  };
  if (recorded === 'file') return ok(file());
  const keychain = recorded === 'keychain' || (recorded === null && opts.prefer !== 'file') ? await KeychainSecretStore.detect(opts) : null;
  if (recorded === 'keychain') {
    return keychain ? ok(keychain) : err('unavailable', `This data directory keeps its secrets in the OS keychain, which does not answer: unlock it (or start its keyring service) and try again.`);
  }
  if (recorded !== null) return err('invalid_input', `${markerPath} says "${recorded}"; it should say keychain or file.`);
  if (keychain && !existsSync(join(opts.dataDir, 'secrets.enc'))) {
    remember('keychain');
    return ok(keychain);
  }
  if (opts.prefer === 'keychain') return err('unavailable', 'REVTRAIL_SECRETS=keychain, but no OS keychain answers here (macOS Keychain or a Secret Service keyring on Linux).');
  remember('file');
  return ok(file());
}
