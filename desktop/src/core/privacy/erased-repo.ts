import { createHash } from 'node:crypto';
import { erasureDigestText, type ErasedKind } from '@revtrail/shared';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

/** The identifiers a person is found and erased by. */
export type SubjectKind = ErasedKind;

/**
 * What is kept of an erased identifier: a SHA-256 digest, domain-separated by kind. Enough to recognise the
 * identifier when a sync brings it again (visitor ids and email hashes are random 128- and 256-bit values, so
 * the digest reveals nothing), and not the identifier itself, which must not survive the erasure anywhere.
 */
export function erasedDigest(kind: SubjectKind, value: string): string {
  return createHash('sha256').update(erasureDigestText(kind, value)).digest('hex');
}

/**
 * The stand-in for an erased person in the rows that stay (charges, commission lines, bindings): the same for
 * every row of the same identifier, so a customer's later renewals still group, and derived only from the digest.
 */
export const tombstoneId = (kind: SubjectKind, value: string): string => `erased_${erasedDigest(kind, value).slice(0, 24)}`;

export const isTombstoneId = (value: string | null): boolean => value !== null && value.startsWith('erased_');

const stmts = statementsPerDb((db: Db) => ({
  any: db.prepare<[], { n: number }>(`SELECT EXISTS (SELECT 1 FROM erased_subjects) AS n`),
  has: db.prepare<[string], { n: number }>(`SELECT 1 AS n FROM erased_subjects WHERE digest = ?`),
  add: db.prepare(`INSERT INTO erased_subjects (digest, kind, at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING`),
  legacy: db.prepare<[], { visitor_id: string | null; email_hash: string | null; at: number }>(`SELECT visitor_id, email_hash, at FROM erasures`),
  dropLegacy: db.prepare(`DELETE FROM erasures`),
}));

export function markErased(db: Db, kind: SubjectKind, value: string, at: number): void {
  markErasedDigest(db, kind, erasedDigest(kind, value), at);
}

/** Records an erasure known only by its digest (the redirector's erasure feed); true when it is new here. */
export function markErasedDigest(db: Db, kind: SubjectKind, digest: string, at: number): boolean {
  return stmts(db).add.run(digest, kind, at).changes > 0;
}

/**
 * A check for one write transaction: whether an identifier was erased. It skips the digest entirely while no one
 * was ever erased, so an ordinary pull pays nothing for it.
 */
export function erasedCheck(db: Db): (kind: SubjectKind, value: string | null | undefined) => boolean {
  const s = stmts(db);
  if (s.any.get()!.n === 0) return () => false;
  return (kind, value) => typeof value === 'string' && value.length > 0 && s.has.get(erasedDigest(kind, value)) !== undefined;
}

/**
 * Erasures recorded before version 10 kept the raw visitor id or email hash (the erasures table): they become
 * digests and the raw rows go, with secure_delete on so their bytes are overwritten.
 */
export function foldLegacyErasures(db: Db): number {
  const s = stmts(db);
  const rows = s.legacy.all();
  if (rows.length === 0) return 0;
  const secure = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    db.transaction(() => {
      for (const r of rows) {
        if (r.visitor_id) markErased(db, 'visitor', r.visitor_id, r.at);
        if (r.email_hash) markErased(db, 'email', r.email_hash, r.at);
      }
      s.dropLegacy.run();
    })();
  } finally {
    db.pragma(`secure_delete = ${secure}`);
  }
  return rows.length;
}
