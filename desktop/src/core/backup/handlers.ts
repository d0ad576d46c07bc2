import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { err, ok, type Result } from '@revtrail/shared';
import type { CoreContext } from '../context';
import { loadMigrations, migrate } from '../db/migrate';
import type { Db } from '../db/open';
import { foldLegacyErasures } from '../privacy/erased-repo';
import { allRequests } from '../privacy/requests-repo';
import { getDataSettings, noteBackup } from '../privacy/settings-repo';
import type { Workspace } from '../workspaces/registry';
import { BackupFormatError, decryptFile, encryptFile, readHeader } from './crypto';
import { carryOver, databaseVersion, erasedSubjects, integrityProblem, reapplyErasures } from './repo';

export interface BackupInfo {
  file: string;
  createdAt: number;
  schemaVersion: number;
  bytes: number;
}

export type BackupHandlers = {
  /** A backup now (`ifDue`: only when the last one is older than the schedule says); keeps the newest N. */
  'backup.create': (args: { workspace?: string; ifDue?: boolean }) => Promise<Result<{ created: BackupInfo | null; removed: number; dir: string }>>;
  'backup.list': (args: { workspace?: string }) => Promise<Result<{ dir: string; backups: BackupInfo[] }>>;
  /** Replaces the workspace's database with a backup; people erased since are erased again, the audit log kept. */
  'backup.restore': (args: { workspace?: string; file: string }) => Promise<Result<{ restored: BackupInfo; reErased: number; message: string }>>;
};

export interface BackupDeps {
  /** Rebuilds what is derived from the facts after a restore. */
  afterRestore(ws: Workspace, db: Db): Promise<void>;
}

const SUFFIX = '.rtbak';
const HOUR_MS = 3_600_000;
const stamp = (at: number) => new Date(at).toISOString().replace(/[:.]/g, '-');

export function createBackupHandlers(ctx: CoreContext, deps: BackupDeps): BackupHandlers {
  const folder = (ws: Workspace, db: Db) => getDataSettings(db).backupDir ?? join(dirname(ctx.registry.databasePath(ws.id)), 'backups');
  /** The workspace's backup key: made on the first backup, kept only in the secret store. */
  const key = async (ws: Workspace, create: boolean): Promise<Buffer | null> => {
    const stored = await ctx.secret(ws, 'backup_key');
    if (stored) return Buffer.from(stored, 'base64');
    if (!create) return null;
    const made = randomBytes(32);
    await ctx.setSecret(ws, 'backup_key', made.toString('base64'));
    return made;
  };
  const list = async (dir: string): Promise<BackupInfo[]> => {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX));
    } catch {
      return [];
    }
    const out: BackupInfo[] = [];
    for (const name of names) {
      try {
        const { header } = await readHeader(join(dir, name));
        out.push({ file: join(dir, name), createdAt: header.createdAt, schemaVersion: header.schemaVersion, bytes: header.bytes });
      } catch {
        // Not one of ours, or damaged: listed nowhere, never deleted by the rotation.
      }
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  };

  return {
    'backup.create': async ({ workspace, ifDue }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const { workspace: ws, db } = found;
      const settings = getDataSettings(db);
      const now = ctx.clock.now();
      const dir = folder(ws, db);
      if (ifDue && settings.lastBackupAt !== null && now - settings.lastBackupAt < settings.backupEveryHours * HOUR_MS) return ok({ created: null, removed: 0, dir });
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        return err('invalid_input', `Revtrail cannot write backups to ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'}): choose another folder in Settings.`);
      }
      const k = (await key(ws, true))!;
      const plain = join(dir, `.${ws.id}-${stamp(now)}.sqlite.tmp`);
      const out = join(dir, `revtrail-${ws.id}-${stamp(now)}${SUFFIX}`);
      try {
        // SQLite's online backup: a consistent copy while the app goes on using the database.
        await db.backup(plain);
        const header = await encryptFile(plain, out, k, { workspaceId: ws.id, createdAt: now, schemaVersion: databaseVersion(db) });
        noteBackup(db, now);
        const all = await list(dir);
        const old = all.filter((b) => b.file !== out).slice(Math.max(0, settings.backupKeep - 1));
        for (const b of old) rmSync(b.file, { force: true });
        ctx.log.info({ workspace: ws.id, bytes: header.bytes, removed: old.length }, 'backup made');
        return ok({ created: { file: out, createdAt: now, schemaVersion: header.schemaVersion, bytes: header.bytes }, removed: old.length, dir });
      } finally {
        rmSync(plain, { force: true });
      }
    },

    'backup.list': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const dir = folder(found.workspace, found.db);
      return ok({ dir, backups: await list(dir) });
    },

    'backup.restore': async ({ workspace, file }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const { workspace: ws, db } = found;
      if (typeof file !== 'string' || file.length === 0) return err('invalid_input', ctx.step({ app: 'Pick the backup to restore in the list of backups.', cli: 'Name the backup file to restore (revtrail backup list shows them).' }));
      let header;
      try {
        header = (await readHeader(file)).header;
      } catch (e) {
        if (e instanceof BackupFormatError) return err('invalid_input', `${file} cannot be restored: ${e.message}.`);
        return err('not_found', `No backup file at ${file}: ${ctx.step({ app: 'pick one in the list of backups', cli: 'revtrail backup list shows them' })}.`);
      }
      const known = loadMigrations().at(-1)!.version;
      if (header.schemaVersion > known) {
        return err('invalid_input', `This backup was made by a newer Revtrail (database schema ${header.schemaVersion}; this version knows ${known}): update Revtrail, then restore it. Nothing was changed.`);
      }
      if (header.workspaceId !== ws.id) return err('invalid_input', `This backup belongs to another workspace (${header.workspaceId}): restore it there. Nothing was changed.`);
      const k = await key(ws, false);
      if (!k) return err('not_found', 'This workspace has no backup key in the secret store, so its backups cannot be read here.');
      const path = ctx.registry.databasePath(ws.id);
      const incoming = `${path}.restore-${stamp(ctx.clock.now())}`;
      try {
        await decryptFile(file, incoming, k);
      } catch (e) {
        rmSync(incoming, { force: true });
        if (e instanceof BackupFormatError) return err('invalid_input', `${file} cannot be restored: ${e.message}. Nothing was changed.`);
        throw e;
      }
      const source = new Database(incoming);
      const problem = integrityProblem(source);
      if (problem) {
        source.close();
        rmSync(incoming, { force: true });
        return err('invalid_input', `${file} holds a damaged database (${problem}). Nothing was changed: try an older backup.`);
      }
      // Who was erased since the backup, and the audit log, outlive the restore.
      foldLegacyErasures(db);
      const erased = erasedSubjects(db);
      const requests = allRequests(db);
      // SQLite's backup API, run the other way: it writes the restored pages into the live database under its
      // locks, so every connection open on it (the app's, its sync worker's) reads the restored data at once; a
      // file renamed over it would leave them on the old one. The database as it was is copied aside first.
      const previous = `${path}.before-restore-${stamp(ctx.clock.now())}`;
      await db.backup(previous);
      try {
        await source.backup(path);
      } finally {
        source.close();
        rmSync(incoming, { force: true });
      }
      // A backup from an older version comes back at its schema: brought up to this one as an open would.
      migrate(db);
      foldLegacyErasures(db);
      carryOver(db, erased, requests);
      const reErased = await reapplyErasures(db, ctx.clock.now());
      await deps.afterRestore(ws, db);
      ctx.log.info({ workspace: ws.id, schemaVersion: header.schemaVersion, reErased }, 'backup restored');
      return ok({
        restored: { file, createdAt: header.createdAt, schemaVersion: header.schemaVersion, bytes: header.bytes },
        reErased,
        message: `Restored the backup of ${new Date(header.createdAt).toISOString()}.${reErased > 0 ? ` ${reErased} people erased since were erased again.` : ''} Sync to bring in what happened after it. The database as it was is kept at ${previous}.`,
      });
    },
  };
}
