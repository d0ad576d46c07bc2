import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretUnreadableError, type SecretStore } from './types';

/**
 * Electron's safeStorage, structurally: Electron's own object satisfies it in the main process, and the
 * core process reaches it through a proxy over its channel to the main process (whose answers are
 * promises). The core never imports electron.
 */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean | Promise<boolean>;
  encryptString(plain: string): Buffer | Promise<Buffer>;
  decryptString(encrypted: Buffer): string | Promise<string>;
  /** Linux only: 'basic_text' means no keyring was found and the key is a fixed one. */
  getSelectedStorageBackend?(): string | Promise<string>;
}

/** Whether safeStorage protects anything here: available, and not Linux's fixed-key fallback. */
export async function safeStorageOffered(s: SafeStorageLike | null | undefined): Promise<boolean> {
  if (!s || !(await s.isEncryptionAvailable())) return false;
  return (await s.getSelectedStorageBackend?.()) !== 'basic_text';
}

/**
 * Secrets encrypted by the OS keychain (Keychain on macOS, DPAPI on Windows, the Secret Service or
 * KWallet on Linux) through Electron's safeStorage; the ciphertexts sit in one JSON file (mode 0600).
 * Where the OS offers no keychain, it refuses to store rather than keep secrets under a known key.
 */
export class SafeStorageSecretStore implements SecretStore {
  readonly description: string;

  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly file: string,
    backendName?: string,
  ) {
    this.description = `OS keychain via Electron safeStorage${backendName ? ` (${backendName})` : ''}, ciphertexts in ${file} (mode 0600)`;
  }

  async get(name: string): Promise<string | null> {
    const blob = this.read()[name];
    if (blob === undefined) return null;
    await this.ensureAvailable();
    try {
      return await this.safeStorage.decryptString(Buffer.from(blob, 'base64'));
    } catch {
      throw new SecretUnreadableError(name, "this user's keychain cannot decrypt it (was the data copied from another account or machine?)");
    }
  }

  async set(name: string, value: string): Promise<void> {
    await this.ensureAvailable();
    const sealed = (await this.safeStorage.encryptString(value)).toString('base64');
    this.write({ ...this.read(), [name]: sealed });
  }

  async delete(name: string): Promise<void> {
    const all = this.read();
    if (!(name in all)) return;
    delete all[name];
    this.write(all);
  }

  private async ensureAvailable(): Promise<void> {
    if (!(await safeStorageOffered(this.safeStorage))) {
      throw new Error('This system offers no keychain to protect secrets (on Linux: install and unlock gnome-keyring or KWallet), so Revtrail will not store them.');
    }
  }

  private read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
  }

  private write(all: Record<string, string>): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
