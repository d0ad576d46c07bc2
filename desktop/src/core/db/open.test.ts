import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseTooNewError } from './migrate';
import { MIGRATIONS } from './migrations';
import { openDatabase } from './open';

const dir = mkdtempSync(join(tmpdir(), 'revtrail-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('openDatabase', () => {
  it('refuses a database from a newer Revtrail with the version found, before any write: its bytes stay as they were', () => {
    // A rollback-journal file: the WAL switch would rewrite its header, so the refusal must come first.
    const folder = mkdtempSync(join(dir, 'newer-'));
    const path = join(folder, 'workspace.sqlite');
    const newer = new Database(path);
    newer.exec('CREATE TABLE from_the_future (id INTEGER PRIMARY KEY)');
    newer.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    newer.close();
    const before = digest(path);

    let thrown: unknown;
    try {
      openDatabase(path).close();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DatabaseTooNewError);
    expect(thrown).toMatchObject({ found: MIGRATIONS.length + 1, known: MIGRATIONS.length, message: expect.stringContaining(`schema ${MIGRATIONS.length + 1}`) });
    expect(digest(path)).toBe(before);
    expect(readdirSync(folder)).toEqual(['workspace.sqlite']);
  });

  it('opens a database of this version in WAL mode with foreign keys on', () => {
    const db = openDatabase(join(dir, 'current.sqlite'));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(8192);
    db.close();
  });
});
