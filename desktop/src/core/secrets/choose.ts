import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '@revtrail/shared';
import { EncryptedFileSecretStore } from './encrypted-file';
import { KeychainSecretStore, type Runner } from './keychain';
import { SafeStorageSecretStore, safeStorageOffered, type SafeStorageLike } from './safe-storage';
import { stepFor, type Surface } from '../surface';
import type { SecretStore } from './types';

export type SecretBackend = 'keychain' | 'safe-storage' | 'file';

/** The one file in a data folder that says where its secrets are: whichever program opens it reads this. */
export const SECRETS_MARKER = 'secrets-backend';
const FILE = 'secrets.enc';
const SAFE_STORAGE_FILE = 'secrets.safe.json';

export interface SecretChoice {
  dataDir: string;
  /** Where a new encrypted file's key goes (apart from the data); the marker then names it for good. */
  keyFile: string;
  /** REVTRAIL_SECRETS as given: keychain, safe-storage, file, or empty/absent for the default. */
  prefer?: string;
  /** Electron's safeStorage, offered by the app only. */
  safeStorage?: SafeStorageLike | null;
  /** Keys earlier versions may have sealed an unmarked `secrets.enc` with (the app's `Revtrail-keys/secrets.key`). */
  legacyKeyFiles?: readonly string[];
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  run?: Runner;
}

interface Marker {
  backend: SecretBackend;
  /** The file backend's key; absent in markers written before it was recorded (then: `keyFile`). */
  keyFile?: string;
}

const readMarker = (path: string): Marker | { invalid: string } | null => {
  if (!existsSync(path)) return null;
  const [backend = '', keyFile] = readFileSync(path, 'utf8').split('\n').map((l) => l.trim());
  if (backend !== 'keychain' && backend !== 'safe-storage' && backend !== 'file') return { invalid: backend };
  return backend === 'file' && keyFile ? { backend, keyFile } : { backend };
};

/** Whether `keyFile` opens the (version 1 or 2) file: an entry read back, or nothing stored yet. */
async function keyOpens(file: string, keyFile: string): Promise<boolean> {
  if (!existsSync(keyFile)) return false;
  const raw = readFileSync(file);
  let names: string[] = [];
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { v?: number; entries?: Record<string, string> };
    if (parsed.v === 2) names = Object.keys(parsed.entries ?? {});
  } catch {
    names = ['(version 1)'];
  }
  if (names.length === 0) return true;
  try {
    await new EncryptedFileSecretStore(file, keyFile).get(names[0]!);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a data folder keeps its secrets, the same for the CLI, browser mode and the app. A folder's first
 * opener decides and writes the marker (`secrets-backend`: the backend, and for the encrypted file the
 * key's path); every later opener, whatever the program, follows the marker and never looks elsewhere.
 *
 * A new folder takes, in order: REVTRAIL_SECRETS when given; the OS keychain where its command line
 * answers (every program can use it); Electron's safeStorage where only the app can protect secrets
 * (Windows, or a Linux keyring without secret-tool); else the encrypted file. safeStorage comes after the
 * keychain because only the app can read it: a folder marked so tells the CLI and browser mode to use the
 * app, while a folder on the keychain or the file reads the same in all three.
 */
export async function chooseSecretStore(opts: SecretChoice): Promise<Result<SecretStore>> {
  const prefer = opts.prefer || undefined;
  if (prefer !== undefined && prefer !== 'keychain' && prefer !== 'safe-storage' && prefer !== 'file') {
    return err('invalid_input', 'REVTRAIL_SECRETS must be keychain, safe-storage or file.');
  }
  const markerPath = join(opts.dataDir, SECRETS_MARKER);
  const fileStore = (keyFile: string) => new EncryptedFileSecretStore(join(opts.dataDir, FILE), keyFile);
  const safeStore = async () => new SafeStorageSecretStore(opts.safeStorage!, join(opts.dataDir, SAFE_STORAGE_FILE), await opts.safeStorage!.getSelectedStorageBackend?.());
  const safeOffered = await safeStorageOffered(opts.safeStorage);
  const useSafeStorage = async (): Promise<Result<SecretStore>> =>
    safeOffered
      ? ok(await safeStore())
      : err(
          'secret_unreadable',
          `The secrets of ${opts.dataDir} are kept by the Revtrail app (Electron safeStorage), which only the app can read${opts.safeStorage ? ', and this system offers it no keychain now (on Linux: unlock gnome-keyring or KWallet)' : ''}: open this data folder in the app, or give this command another --data-dir.`,
        );

  const recorded = readMarker(markerPath);
  if (recorded && 'invalid' in recorded) return err('invalid_input', `${markerPath} says "${recorded.invalid}"; its first line should be keychain, safe-storage or file.`);
  if (recorded?.backend === 'file') return ok(fileStore(recorded.keyFile ?? opts.keyFile));
  if (recorded?.backend === 'safe-storage') return useSafeStorage();
  if (recorded?.backend === 'keychain') {
    const keychain = await KeychainSecretStore.detect(opts);
    return keychain ? ok(keychain) : err('unavailable', 'This data folder keeps its secrets in the OS keychain, which does not answer: unlock it (or start its keyring service) and try again.');
  }

  const remember = (marker: Marker, store: SecretStore): Result<SecretStore> => {
    try {
      mkdirSync(opts.dataDir, { recursive: true });
      writeFileSync(markerPath, marker.keyFile ? `${marker.backend}\n${marker.keyFile}\n` : `${marker.backend}\n`);
      return ok(store);
    } catch (e) {
      return err('read_only', readOnlyMessage(opts.dataDir, e));
    }
  };

  // Unmarked folders from earlier versions: the file the app or the CLI left, under whichever key opens it.
  const existingFile = join(opts.dataDir, FILE);
  if (existsSync(existingFile)) {
    for (const keyFile of [opts.keyFile, ...(opts.legacyKeyFiles ?? [])]) {
      if (await keyOpens(existingFile, keyFile)) return remember({ backend: 'file', keyFile }, fileStore(keyFile));
    }
    return remember({ backend: 'file', keyFile: opts.keyFile }, fileStore(opts.keyFile));
  }
  if (existsSync(join(opts.dataDir, SAFE_STORAGE_FILE))) {
    const store = await useSafeStorage();
    return store.ok ? remember({ backend: 'safe-storage' }, store.value) : store;
  }

  if (prefer === 'file') return remember({ backend: 'file', keyFile: opts.keyFile }, fileStore(opts.keyFile));
  if (prefer === 'safe-storage') {
    if (!safeOffered) return err('unavailable', 'REVTRAIL_SECRETS=safe-storage, but only the Revtrail app offers safeStorage, and only with an OS keychain.');
    return remember({ backend: 'safe-storage' }, await safeStore());
  }
  const keychain = await KeychainSecretStore.detect(opts);
  if (keychain) return remember({ backend: 'keychain' }, keychain);
  if (prefer === 'keychain') return err('unavailable', 'REVTRAIL_SECRETS=keychain, but no OS keychain answers here (macOS Keychain or a Secret Service keyring on Linux).');
  if (safeOffered) return remember({ backend: 'safe-storage' }, await safeStore());
  return remember({ backend: 'file', keyFile: opts.keyFile }, fileStore(opts.keyFile));
}

/** A data folder Revtrail cannot write to, in words that say what to do (the app cannot take --data-dir). */
export function readOnlyMessage(dataDir: string, e: unknown, surface: Surface = 'cli'): string {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return stepFor(surface, {
    app: `Revtrail cannot write to its data folder ${dataDir}: it is on a read-only disk or belongs to another user. Make it writable, then start Revtrail again.`,
    cli: `Revtrail cannot write to its data folder ${dataDir} (${code}): it is on a read-only disk or belongs to another user. Make it writable, or choose another folder with --data-dir (or REVTRAIL_HOME).`,
  });
}
