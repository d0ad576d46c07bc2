import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretStore } from './types';

const KEY_BYTES = 32;

/**
 * Secrets in one AES-256-GCM encrypted file, under a random key kept in another file (mode 0600) away
 * from the data directory. What it protects against: a copy of the data directory or of a backup of it
 * (the key is not in it), and other users of the machine (0600). What it does not: malware running as the
 * same user, who can read both files; for that, use the OS keychain (the Electron app uses safeStorage).
 */
export class EncryptedFileSecretStore implements SecretStore {
  readonly description: string;

  constructor(
    private readonly file: string,
    private readonly keyFile: string,
  ) {
    this.description = `encrypted file ${file} (AES-256-GCM), key in ${keyFile} (mode 0600)`;
  }

  async get(name: string): Promise<string | null> {
    return this.read()[name] ?? null;
  }

  async set(name: string, value: string): Promise<void> {
    this.write({ ...this.read(), [name]: value });
  }

  async delete(name: string): Promise<void> {
    const all = this.read();
    delete all[name];
    this.write(all);
  }

  private key(): Buffer {
    if (!existsSync(this.keyFile)) {
      mkdirSync(dirname(this.keyFile), { recursive: true, mode: 0o700 });
      writeFileSync(this.keyFile, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    }
    const key = readFileSync(this.keyFile);
    if (key.length !== KEY_BYTES) throw new Error(`The secrets key ${this.keyFile} is damaged (expected ${KEY_BYTES} bytes).`);
    return key;
  }

  private read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    const blob = readFileSync(this.file);
    const decipher = createDecipheriv('aes-256-gcm', this.key(), blob.subarray(0, 12));
    decipher.setAuthTag(blob.subarray(12, 28));
    try {
      return JSON.parse(Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]).toString('utf8')) as Record<string, string>;
    } catch {
      throw new Error(`The secrets file ${this.file} cannot be decrypted with ${this.keyFile}: the key changed or the file is damaged. Reconnect the redirector and Stripe.`);
    }
  }

  private write(all: Record<string, string>): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(), iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(all), 'utf8'), cipher.final()]);
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, Buffer.concat([iv, cipher.getAuthTag(), body]), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
