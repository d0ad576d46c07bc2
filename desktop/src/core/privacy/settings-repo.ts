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
  /**
   * Whether the screens may name customers by their Stripe name or email (read from Stripe when shown, never
   * stored); off: a short label ("Customer 4F2A9C").
   */
  customerNames: boolean;
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
  customer_names: number;
}

const stmts = statementsPerDb((db: Db) => ({
  get: db.prepare<[], Row>(
    `SELECT retention_days, metadata_keys_json, backup_dir, backup_every_hours, backup_keep, last_purge_at, last_backup_at, customer_names FROM data_settings WHERE id = 1`,
  ),
  set: db.prepare(
    `UPDATE data_settings SET retention_days = @retentionDays, metadata_keys_json = @keys, backup_dir = @backupDir,
       backup_every_hours = @backupEveryHours, backup_keep = @backupKeep, customer_names = @names, updated_at = @at WHERE id = 1`,
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
    customerNames: r.customer_names === 1,
  };
}

export function setDataSettings(db: Db, s: Omit<DataSettings, 'lastPurgeAt' | 'lastBackupAt'>, at: number): void {
  const { customerNames, ...rest } = s;
  stmts(db).set.run({ ...rest, keys: JSON.stringify(s.metadataKeys), names: customerNames ? 1 : 0, at });
}

export const notePurge = (db: Db, at: number): void => void stmts(db).purged.run(at);
export const noteBackup = (db: Db, at: number): void => void stmts(db).backedUp.run(at);
