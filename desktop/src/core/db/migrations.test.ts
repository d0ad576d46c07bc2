import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from './migrate';
import { MIGRATIONS } from './migrations';

// The folder is read here, in the test, only to check the list that ships: the app itself never lists it.
const dir = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_MODULE = /^(\d{4})-([a-z0-9-]+)\.ts$/;

describe('embedded migrations', () => {
  it('lists every migration module in the folder, under its own number and name, with its own SQL', async () => {
    const files = readdirSync(dir).filter((f) => f !== 'index.ts');
    expect(files.filter((f) => !MIGRATION_MODULE.test(f)), 'only NNNN-name.ts modules belong beside index.ts').toEqual([]);
    const onDisk = await Promise.all(
      files.map(async (f) => {
        const [, number, name] = MIGRATION_MODULE.exec(f)!;
        const mod = (await import(`./migrations/${number}-${name}.ts`)) as { default: string };
        return { version: Number(number), name: name!, sql: mod.default };
      }),
    );
    expect([...MIGRATIONS]).toEqual(onDisk.sort((a, b) => a.version - b.version));
  });

  it('refuses a list with a gap', () => {
    const withGap = MIGRATIONS.filter((m) => m.version !== 2);
    expect(() => loadMigrations(withGap)).toThrow(/without gaps; found 0003-stripe/);
  });

  it('brings an empty database to the last version, each migration being plain SQL that runs', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toBe(MIGRATIONS.length);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });
});
