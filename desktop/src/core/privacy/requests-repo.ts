import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';
import type { SubjectKind } from './erased-repo';

export type RequestKind = 'find' | 'export' | 'erase';

/** One handled request as the audit log keeps it: counts only, never an identifier. */
export interface PrivacyRequest {
  id: number;
  at: number;
  kind: RequestKind;
  /** Which kind of identifier the request named. */
  scope: SubjectKind;
  found: Record<string, number>;
  erased: Record<string, number> | null;
  /** What the redirector held or erased; null when there is none connected. */
  cloud: CloudOutcome | null;
}

export type CloudOutcome = { reached: true; counts: Record<string, number> } | { reached: false; problem: string };

interface Row {
  id: number;
  at: number;
  kind: RequestKind;
  scope: SubjectKind;
  found_json: string;
  erased_json: string | null;
  cloud_json: string | null;
}

const stmts = statementsPerDb((db: Db) => ({
  add: db.prepare(`INSERT INTO privacy_requests (at, kind, scope, found_json, erased_json, cloud_json) VALUES (@at, @kind, @scope, @found, @erased, @cloud)`),
  list: db.prepare<[number], Row>(`SELECT * FROM privacy_requests ORDER BY id DESC LIMIT ?`),
  all: db.prepare<[], Row>(`SELECT * FROM privacy_requests ORDER BY id`),
}));

export function logRequest(db: Db, r: Omit<PrivacyRequest, 'id'>): number {
  const info = stmts(db).add.run({
    at: r.at,
    kind: r.kind,
    scope: r.scope,
    found: JSON.stringify(r.found),
    erased: r.erased === null ? null : JSON.stringify(r.erased),
    cloud: r.cloud === null ? null : JSON.stringify(r.cloud),
  });
  return Number(info.lastInsertRowid);
}

const fromRow = (r: Row): PrivacyRequest => ({
  id: r.id,
  at: r.at,
  kind: r.kind,
  scope: r.scope,
  found: JSON.parse(r.found_json) as Record<string, number>,
  erased: r.erased_json === null ? null : (JSON.parse(r.erased_json) as Record<string, number>),
  cloud: r.cloud_json === null ? null : (JSON.parse(r.cloud_json) as CloudOutcome),
});

/** The newest requests first. */
export const listRequests = (db: Db, limit = 500): PrivacyRequest[] => stmts(db).list.all(limit).map(fromRow);

/** Every request, oldest first (a restore carries them over). */
export const allRequests = (db: Db): PrivacyRequest[] => stmts(db).all.all().map(fromRow);
