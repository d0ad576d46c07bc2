import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

/** How long local events live, which Stripe metadata is kept, and the backups (data_settings). */
export interface DataSettings {
  /** Clicks, pageviews and identities older than this are deleted here; money rows stay. */
  retentionDays: number;
  /** The Stripe metadata keys kept; every other key's value is dropped when read. */
  metadataKeys: string[];
  /** Where backups go; null: the default folder beside the workspace. */
  backupDir: string | null;
  backupEveryHours: number;
  backupKeep: number;
  lastPurgeAt: number | null;
  lastBackupAt: number | null;
}

export const DEFAULT_METADATA_KEYS = ['revtrail_vid', 'client_reference_id'] as const;

interface Row {
  retention_days: number;
  metadata_keys_json: string;
  backup_dir: string | null;
  backup_every_hours: number;
  backup_keep: number;
  last_purge_at: number | null;
  last_backup_at: number | null;
}

const stmts = statementsPerDb((db: Db) => ({
  get: db.prepare<[], Row>(
    `SELECT retention_days, metadata_keys_json, backup_dir, backup_every_hours, backup_keep, last_purge_at, last_backup_at FROM data_settings WHERE id = 1`,
  ),
  set: db.prepare(
    `UPDATE data_settings SET retention_days = @retentionDays, metadata_keys_json = @keys, backup_dir = @backupDir,
       backup_every_hours = @backupEveryHours, backup_keep = @backupKeep, updated_at = @at WHERE id = 1`,
  ),
  purged: db.prepare(`UPDATE data_settings SET last_purge_at = ? WHERE id = 1`),
  backedUp: db.prepare(`UPDATE data_settings SET last_backup_at = ? WHERE id = 1`),
}));

export function getDataSettings(db: Db): DataSettings {
  const r = stmts(db).get.get()!;
  return {
    retentionDays: r.retention_days,
    metadataKeys: JSON.parse(r.metadata_keys_json) as string[],
    backupDir: r.backup_dir,
    backupEveryHours: r.backup_every_hours,
    backupKeep: r.backup_keep,
    lastPurgeAt: r.last_purge_at,
    lastBackupAt: r.last_backup_at,
  };
}

export function setDataSettings(db: Db, s: Omit<DataSettings, 'lastPurgeAt' | 'lastBackupAt'>, at: number): void {
  stmts(db).set.run({ ...s, keys: JSON.stringify(s.metadataKeys), at });
}

export const notePurge = (db: Db, at: number): void => void stmts(db).purged.run(at);
export const noteBackup = (db: Db, at: number): void => void stmts(db).backedUp.run(at);
