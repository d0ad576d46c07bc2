import type { Database } from 'better-sqlite3';
import type { Db } from '../db/open';
import { erasedCheck } from '../privacy/erased-repo';
import { erasePerson, linkIdentifiers, type PersonIds } from '../privacy/person-repo';
import type { PrivacyRequest } from '../privacy/requests-repo';
import { withSecureDelete } from '../privacy/wipe-repo';

export const databaseVersion = (db: Database): number => db.pragma('user_version', { simple: true }) as number;

/** null when SQLite finds the file sound. */
export function integrityProblem(db: Database): string | null {
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.length === 1 && rows[0]!.integrity_check === 'ok' ? null : rows.map((r) => r.integrity_check).slice(0, 3).join('; ');
  } catch (e) {
    return (e as Error).message;
  }
}

interface ErasedRow {
  digest: string;
  kind: string;
  at: number;
}

export const erasedSubjects = (db: Db): ErasedRow[] => db.prepare<[], ErasedRow>(`SELECT digest, kind, at FROM erased_subjects`).all();

/**
 * Writes the current erasures and audit log into a restored copy, so a backup made before an erasure does not
 * bring the person back, nor drop the record of requests handled since. A backup from before version 10 has
 * neither table: it is migrated first (the erasures are applied when it is opened).
 */
export function carryOver(restored: Database, erased: ErasedRow[], requests: PrivacyRequest[]): void {
  const has = (table: string) => restored.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table) !== undefined;
  if (!has('erased_subjects') || !has('privacy_requests')) return;
  restored.transaction(() => {
    const add = restored.prepare(`INSERT INTO erased_subjects (digest, kind, at) VALUES (@digest, @kind, @at) ON CONFLICT (digest) DO NOTHING`);
    for (const e of erased) add.run(e);
    restored.exec(`DELETE FROM privacy_requests`);
    const log = restored.prepare(`INSERT INTO privacy_requests (id, at, kind, scope, found_json, erased_json, cloud_json) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    for (const r of requests) {
      log.run(r.id, r.at, r.kind, r.scope, JSON.stringify(r.found), r.erased === null ? null : JSON.stringify(r.erased), r.cloud === null ? null : JSON.stringify(r.cloud));
    }
  })();
}

const IDENTIFIERS = {
  visitors: `SELECT visitor_id FROM clicks UNION SELECT visitor_id FROM pageviews UNION SELECT visitor_id FROM identities
    UNION SELECT visitor_id FROM stripe_charges WHERE visitor_id IS NOT NULL`,
  emails: `SELECT email_hash FROM identities UNION SELECT email_hash FROM stripe_customers WHERE email_hash IS NOT NULL
    UNION SELECT email_hash FROM stripe_charges WHERE email_hash IS NOT NULL`,
  customers: `SELECT id FROM stripe_customers UNION SELECT customer_id FROM stripe_charges WHERE customer_id IS NOT NULL`,
  telegrams: `SELECT user_hash FROM telegram_starts UNION SELECT user_hash FROM telegram_payments WHERE user_hash IS NOT NULL`,
};

/** Erases again everyone the erasure digests name in a restored database; returns how many identifiers matched. */
export async function reapplyErasures(db: Db, at: number): Promise<number> {
  const erased = erasedCheck(db);
  const ids: PersonIds = { visitors: new Set(), emails: new Set(), customers: new Set(), telegrams: new Set() };
  const kinds = { visitors: 'visitor', emails: 'email', customers: 'customer', telegrams: 'telegram' } as const;
  for (const [set, sql] of Object.entries(IDENTIFIERS) as [keyof PersonIds, string][]) {
    for (const v of db.prepare(sql).pluck().all() as string[]) if (erased(kinds[set], v)) ids[set].add(v);
  }
  const matched = ids.visitors.size + ids.emails.size + ids.customers.size + ids.telegrams.size;
  if (matched > 0) await withSecureDelete(db, () => erasePerson(db, linkIdentifiers(db, ids), at));
  return matched;
}
