import type { Database } from 'better-sqlite3';
import { MIGRATIONS } from './migrations';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The numbered migrations (migrations/index.ts), in order, refusing a list with a gap or out of order. */
export function loadMigrations(migrations: readonly Migration[] = MIGRATIONS): Migration[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 0001, 0002, ... without gaps; found ${String(m.version).padStart(4, '0')}-${m.name}`);
  });
  return [...migrations];
}

export class DatabaseTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`This database was written by a newer Revtrail (schema ${found}; this version knows ${known}). Update Revtrail to open it.`);
    this.name = 'DatabaseTooNewError';
  }
}

/**
 * The database's schema version, read without writing anything; throws for one newer than `migrations`
 * know, so a database from a newer Revtrail can be refused before any write pragma touches it.
 */
export function refuseNewer(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) throw new DatabaseTooNewError(current, latest);
  return current;
}

/**
 * Applies the migrations newer than the database's `user_version`, each in its own transaction with the
 * version bump, so a crash leaves the database at a whole version. Never runs "down", never deletes.
 */
export function migrate(db: Database, migrations: Migration[] = loadMigrations()): number {
  const current = refuseNewer(db, migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return latest;
}
