import { open } from 'node:fs/promises';

const READ_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

export interface FileLine {
  /** Byte offset of the line's first byte, and of the byte after its newline (or the end read). */
  start: number;
  end: number;
  /** The line without its newline; null when longer than the reader's limit (only its extent is known). */
  text: string | null;
  /** False for a last line with no newline: a write cut short. */
  complete: boolean;
}

/**
 * The lines of `path` from byte `from` up to byte `to`, read 64 KiB at a time: a journal far larger than
 * memory streams through. Offsets are bytes, so a reader can persist where it stopped and seek back there.
 */
export async function* readLines(path: string, from: number, to: number, maxLineBytes: number): AsyncGenerator<FileLine> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let overlong = false;
    let lineStart = from;
    let pos = from;
    const take = (bytes: Buffer) => {
      if (overlong) return;
      if (partBytes + bytes.length > maxLineBytes) {
        overlong = true;
        parts = [];
        partBytes = 0;
        return;
      }
      parts.push(Buffer.from(bytes));
      partBytes += bytes.length;
    };
    const line = (end: number, complete: boolean): FileLine => {
      const text = overlong ? null : Buffer.concat(parts, partBytes).toString('utf8');
      parts = [];
      partBytes = 0;
      overlong = false;
      return { start: lineStart, end, text, complete };
    };
    while (pos < to) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(READ_BYTES, to - pos), pos);
      if (bytesRead === 0) break;
      const data = buf.subarray(0, bytesRead);
      let i = 0;
      for (let nl = data.indexOf(NEWLINE, i); nl !== -1; nl = data.indexOf(NEWLINE, i)) {
        take(data.subarray(i, nl));
        const out = line(pos + nl + 1, true);
        lineStart = out.end;
        i = nl + 1;
        yield out;
      }
      take(data.subarray(i));
      pos += bytesRead;
    }
    if (lineStart < pos) yield line(pos, false);
  } finally {
    await fh.close();
  }
}
