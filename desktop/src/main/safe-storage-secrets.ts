import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretStore } from '../core/secrets/types';

/** The part of Electron's safeStorage this needs (structural, so it is tested without Electron). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means no keyring was found and the key is a fixed one. */
  getSelectedStorageBackend?(): string;
}

/**
 * Secrets encrypted by the OS keychain (Keychain on macOS, DPAPI on Windows, the Secret Service or
 * KWallet on Linux) through Electron's safeStorage; the ciphertexts sit in one JSON file (mode 0600).
 * Where the OS offers no keychain, it refuses to store rather than keep secrets under a known key.
 */
export class SafeStorageSecretStore implements SecretStore {
  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly file: string,
  ) {}

  get description(): string {
    const backend = this.safeStorage.getSelectedStorageBackend?.();
    return `OS keychain via Electron safeStorage${backend ? ` (${backend})` : ''}, ciphertexts in ${this.file} (mode 0600)`;
  }

  async get(name: string): Promise<string | null> {
    const blob = this.read()[name];
    if (blob === undefined) return null;
    this.ensureAvailable();
    try {
      return this.safeStorage.decryptString(Buffer.from(blob, 'base64'));
    } catch {
      throw new Error(`The secret ${name} cannot be decrypted by this user's keychain (was the data copied from another account or machine?). Reconnect the redirector and Stripe.`);
    }
  }

  async set(name: string, value: string): Promise<void> {
    this.ensureAvailable();
    this.write({ ...this.read(), [name]: this.safeStorage.encryptString(value).toString('base64') });
  }

  async delete(name: string): Promise<void> {
    const all = this.read();
    if (!(name in all)) return;
    delete all[name];
    this.write(all);
  }

  private ensureAvailable(): void {
    if (!this.safeStorage.isEncryptionAvailable() || this.safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
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
