import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretUnreadableError, type SecretStore } from './types';

const KEY_BYTES = 32;

/** Each entry sealed on its own (name as associated data), so one unreadable entry leaves the others readable. */
interface FileV2 {
  v: 2;
  entries: Record<string, string>;
}

/**
 * Secrets in one file, each entry AES-256-GCM encrypted under a random key kept in another file (mode
 * 0600) away from the data directory. What it protects against: a copy of the data directory or of a
 * backup of it (the key is not in it), and other users of the machine (0600). What it does not: malware
 * running as the same user, who can read both files; for that, the OS keychain.
 *
 * Version 1 files (one sealed blob) are read, and rewritten as version 2 at the next change; a version 1
 * file the key cannot open is moved aside (never deleted) when a secret is stored anew.
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
    const read = this.read();
    if (read === 'unreadable') throw new SecretUnreadableError(name, `${this.keyFile} does not open ${this.file} (the key changed or the file is damaged)`);
    const sealed = read.entries[name];
    if (sealed === undefined) return null;
    try {
      return this.open(name, Buffer.from(sealed, 'base64'));
    } catch {
      throw new SecretUnreadableError(name, `${this.keyFile} does not open its entry in ${this.file} (the key changed or the entry is damaged)`);
    }
  }

  async set(name: string, value: string): Promise<void> {
    const read = this.read();
    if (read === 'unreadable') renameSync(this.file, `${this.file}.unreadable-${Date.now()}`);
    const entries = read === 'unreadable' ? {} : read.entries;
    this.write({ ...entries, [name]: this.seal(name, value).toString('base64') });
  }

  async delete(name: string): Promise<void> {
    const read = this.read();
    if (read === 'unreadable' || !(name in read.entries)) return;
    const { [name]: _gone, ...rest } = read.entries;
    this.write(rest);
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

  private seal(name: string, value: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(), iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  private open(name: string | null, blob: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key(), blob.subarray(0, 12));
    if (name !== null) decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(blob.subarray(12, 28));
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** The entries (version 1 files re-sealed in memory per entry), or 'unreadable' for a version 1 file the key cannot open. */
  private read(): FileV2 | 'unreadable' {
    if (!existsSync(this.file)) return { v: 2, entries: {} };
    const blob = readFileSync(this.file);
    try {
      const parsed = JSON.parse(blob.toString('utf8')) as Partial<FileV2>;
      if (parsed.v === 2 && parsed.entries && typeof parsed.entries === 'object') return parsed as FileV2;
    } catch {
      // Not JSON: a version 1 blob.
    }
    let all: Record<string, string>;
    try {
      all = JSON.parse(this.open(null, blob)) as Record<string, string>;
    } catch {
      return 'unreadable';
    }
    return { v: 2, entries: Object.fromEntries(Object.entries(all).map(([n, v]) => [n, this.seal(n, v).toString('base64')])) };
  }

  private write(entries: Record<string, string>): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: 2, entries } satisfies FileV2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
