// Everything the fault suite knows about the journal's layout on disk and its figures in /status, in one
// place, so a change of layout is one edit here.
import { closeSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The journal's segments in a data dir (`journal/journal-<first sequence number>.jsonl`, see
 * docs/table.md), largest first: the one a fault damages holds the most events.
 */
export function journalFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'journal');
  const names = readdirSync(dir).filter((n) => /^journal-\d{16}\.jsonl$/.test(n));
  return names.map((n) => join(dir, n)).sort((a, b) => statSync(b).size - statSync(a).size);
}

export type Corruption = 'line-null' | 'line-empty-object' | 'line-click-without-item' | 'truncate-0' | 'nul-1000';

/** A valid JSON line of the wrong shape, as each corruption writes it. */
const WRONG_SHAPE: Partial<Record<Corruption, string>> = {
  'line-null': 'null',
  'line-empty-object': '{}',
  'line-click-without-item': '{"kind":"clicks"}',
};

/**
 * Damages one journal file. Wrong-shape lines go in between two whole lines, so no click is lost with
 * them; truncation empties the file; the NULs overwrite 1,000 bytes at `at` (0..1, a fraction of the size),
 * which cuts the lines they cover.
 */
export function corrupt(file: string, how: Corruption, at: number): void {
  const wrong = WRONG_SHAPE[how];
  if (wrong !== undefined) {
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.splice(Math.floor(lines.length * at), 0, wrong);
    writeFileSync(file, lines.join('\n') + '\n');
  } else if (how === 'truncate-0') {
    truncateSync(file, 0);
  } else {
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, Buffer.alloc(1000), 0, 1000, Math.floor(Math.max(0, size - 1000) * at));
    } finally {
      closeSync(fd);
    }
  }
}

export interface JournalFigures {
  /** Events not yet in the store: in journal files, or in memory waiting for the disk. */
  queued: number;
  /** Events the server counts lost: missing from the journal (truncated, overwritten), or dropped from a full buffer. */
  lost: number;
  /** Lines the server set aside as not events. */
  quarantined: number;
}

/** Reads the journal's figures from GET /api/v1/status (`journal`, docs/table.md); missing ones read as 0. */
export function journalFigures(status: unknown): JournalFigures {
  const j = (status as { journal?: Record<string, unknown> | null }).journal ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { queued: num(j.queued) + num(j.buffered), lost: num(j.lost) + num(j.dropped), quarantined: num(j.quarantined) };
}
