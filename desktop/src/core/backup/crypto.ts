import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

// The backup file: "RTBAK1\n", a 4-byte big-endian header length, the header (JSON), then chunks of at most
// CHUNK bytes of the database, each AES-256-GCM under the workspace's backup key with its own random 96-bit IV:
// [12-byte IV][4-byte length][ciphertext][16-byte tag]. Each chunk's additional data is the header, its index and
// whether it is the last, so chunks cannot be reordered, dropped or cut off without the tag failing.
// (AES-GCM: NIST SP 800-38D; Node's API: https://nodejs.org/api/crypto.html#class-cipher)

const MAGIC = Buffer.from('RTBAK1\n');
const CHUNK = 1 << 20;

export interface BackupHeader {
  format: 1;
  workspaceId: string;
  createdAt: number;
  /** The database's schema version (PRAGMA user_version): a restore refuses one newer than it knows. */
  schemaVersion: number;
  bytes: number;
}

const aad = (header: Buffer, index: number, last: boolean) => Buffer.concat([header, Buffer.from(`\0${index}\0${last ? 1 : 0}`)]);

/** Encrypts the file at `plainPath` into `outPath`, chunk by chunk (never the whole database in memory). */
export async function encryptFile(plainPath: string, outPath: string, key: Buffer, header: Omit<BackupHeader, 'bytes' | 'format'>): Promise<BackupHeader> {
  const input = await open(plainPath, 'r');
  const output = await open(outPath, 'wx', 0o600);
  try {
    const bytes = (await input.stat()).size;
    const full: BackupHeader = { format: 1, ...header, bytes };
    const head = Buffer.from(JSON.stringify(full));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(head.length);
    await output.write(Buffer.concat([MAGIC, len, head]));
    const buf = Buffer.alloc(CHUNK);
    let offset = 0;
    let index = 0;
    do {
      const { bytesRead } = await input.read(buf, 0, CHUNK, offset);
      offset += bytesRead;
      const last = offset >= bytes;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(head, index, last));
      const ct = Buffer.concat([cipher.update(buf.subarray(0, bytesRead)), cipher.final()]);
      const n = Buffer.alloc(4);
      n.writeUInt32BE(ct.length);
      await output.write(Buffer.concat([iv, n, ct, cipher.getAuthTag()]));
      index += 1;
    } while (offset < bytes);
    await output.sync();
    return full;
  } finally {
    await input.close();
    await output.close();
  }
}

async function readExactly(file: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  if (bytesRead !== length) throw new BackupFormatError('the file is cut short');
  return buf;
}

export class BackupFormatError extends Error {}

/** The header of a backup file, without decrypting it. */
export async function readHeader(path: string): Promise<{ header: BackupHeader; body: number; raw: Buffer }> {
  const file = await open(path, 'r');
  try {
    const magic = await readExactly(file, MAGIC.length + 4, 0);
    if (!magic.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupFormatError('it is not a Revtrail backup');
    const length = magic.readUInt32BE(MAGIC.length);
    if (length > 64 * 1024) throw new BackupFormatError('its header is damaged');
    const raw = await readExactly(file, length, MAGIC.length + 4);
    return { header: JSON.parse(raw.toString('utf8')) as BackupHeader, body: MAGIC.length + 4 + length, raw };
  } finally {
    await file.close();
  }
}

/** Decrypts a backup into `outPath`; throws BackupFormatError when the key is wrong or the file was altered. */
export async function decryptFile(path: string, outPath: string, key: Buffer): Promise<BackupHeader> {
  const { header, body, raw } = await readHeader(path);
  const file = await open(path, 'r');
  const output = await open(outPath, 'wx', 0o600);
  try {
    const size = (await file.stat()).size;
    let position = body;
    let index = 0;
    let written = 0;
    while (position < size) {
      const iv = await readExactly(file, 12, position);
      const n = (await readExactly(file, 4, position + 12)).readUInt32BE(0);
      if (n > CHUNK) throw new BackupFormatError('a chunk is damaged');
      const ct = await readExactly(file, n, position + 16);
      const tag = await readExactly(file, 16, position + 16 + n);
      position += 32 + n;
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aad(raw, index, position >= size));
      decipher.setAuthTag(tag);
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(ct), decipher.final()]);
      } catch {
        throw new BackupFormatError('it does not decrypt with this workspace’s backup key, or it was altered');
      }
      await output.write(plain);
      written += plain.length;
      index += 1;
    }
    if (written !== header.bytes) throw new BackupFormatError('it is incomplete');
    return header;
  } finally {
    await file.close();
    await output.close();
  }
}
