import { err, hashEmail, hashTelegramUser, ok, STRIPE_HINT_ERASE_MAX, type Result } from '@revtrail/shared';
import type { ExportedFile } from '../affiliates/payouts';
import type { CoreContext } from '../context';
import type { Db } from '../db/open';
import { RedirectorError, type RedirectorClient, type RedirectorSettings } from '../redirector/client';
import type { Workspace } from '../workspaces/registry';
import { foldLegacyErasures, type SubjectKind } from './erased-repo';
import { exportFiles } from './export';
import { erasePerson, linkIdentifiers, personRows, PERSON_TABLES, type ErasedCounts, type PersonIds, type PersonRows, type PersonTable } from './person-repo';
import { listRequests, logRequest, type CloudOutcome, type PrivacyRequest, type RequestKind } from './requests-repo';
import { purgeEventsBefore, type PurgeCounts } from './retention-repo';
import { getDataSettings, notePurge, setDataSettings, type DataSettings } from './settings-repo';
import { readSubject, type Subject, type SubjectArgs } from './subject';
import { withSecureDelete } from './wipe-repo';

/** What is held about one person, here and on the redirector. */
export interface PersonFound {
  scope: SubjectKind;
  /** How many identifiers of each kind the data links to the person (the one given included). */
  linked: { visitors: number; emails: number; customers: number; telegrams: number };
  local: Record<PersonTable, number>;
  /** null: no redirector connected. */
  cloud: CloudOutcome | null;
  total: number;
}

export interface PersonErased {
  found: PersonFound;
  erased: ErasedCounts;
  cloud: CloudOutcome | null;
  message: string;
}

export type DataSettingsInput = Partial<Pick<DataSettings, 'retentionDays' | 'metadataKeys' | 'backupDir' | 'backupEveryHours' | 'backupKeep' | 'customerNames'>>;

export type PrivacyHandlers = {
  /** Everything held about a person (one of email, visitor, customer), with counts; the request is logged. */
  'privacy.find': (args: SubjectArgs) => Promise<Result<PersonFound>>;
  /** One JSON file and one HTML page of everything held about the person. */
  'privacy.export': (args: SubjectArgs) => Promise<Result<{ found: PersonFound; files: ExportedFile[] }>>;
  /** Erases the person on the redirector and here; payments and commissions stay under a tombstone id. */
  'privacy.erase': (args: SubjectArgs) => Promise<Result<PersonErased>>;
  /** The audit log of requests handled, newest first. */
  'privacy.log': (args: { workspace?: string }) => Promise<Result<PrivacyRequest[]>>;
  'privacy.settings': (args: { workspace?: string }) => Promise<Result<DataSettings>>;
  'privacy.saveSettings': (args: { workspace?: string } & DataSettingsInput) => Promise<Result<DataSettings>>;
  /** Deletes local clicks, pageviews and identities older than the retention setting. */
  'privacy.purge': (args: { workspace?: string }) => Promise<Result<PurgeCounts & { before: number }>>;
  /** The redirector's own settings (its retention), read and changed through the sync API. */
  'privacy.cloudSettings': (args: { workspace?: string }) => Promise<Result<RedirectorSettings>>;
  'privacy.saveCloudSettings': (args: { workspace?: string; retentionDays: number }) => Promise<Result<RedirectorSettings>>;
};

export interface PrivacyDeps {
  redirector(ws: Workspace): Promise<RedirectorClient | null>;
  /** Rebuilds what is derived from the facts (the attribution ledger, commissions) after an erasure. */
  afterErase(ws: Workspace, db: Db): Promise<void>;
}

const DAY_MS = 86_400_000;
const METADATA_KEY_RE = /^[A-Za-z0-9_.-]{1,40}$/;

/** Every Stripe object id held about the person: what a webhook hint on the redirector may name. */
function stripeObjectIds(ids: PersonIds, rows: PersonRows): string[] {
  const tables = ['stripe_customers', 'stripe_charges', 'stripe_refunds', 'stripe_disputes', 'stripe_subscriptions', 'stripe_invoices', 'stripe_invoice_payments'] as const;
  const all = new Set(ids.customers);
  for (const t of tables) for (const row of rows[t]) if (typeof row.id === 'string') all.add(row.id);
  return [...all];
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** What the redirector holds of a Telegram user; nothing when it is older than Telegram support. */
async function telegramPerson(client: RedirectorClient, userHash: string) {
  try {
    return await client.telegramPerson(userHash);
  } catch (e) {
    if (e instanceof RedirectorError && e.kind === 'missing') return { counts: {}, visitorIds: [] };
    throw e;
  }
}

export function createPrivacyHandlers(ctx: CoreContext, deps: PrivacyDeps): PrivacyHandlers {
  /** The identifiers the request starts from; an email becomes its hash under the workspace's key. */
  const startIds = async (ws: Workspace, subject: Subject): Promise<Result<PersonIds>> => {
    const ids: PersonIds = { visitors: new Set(), emails: new Set(), customers: new Set(), telegrams: new Set() };
    if (subject.kind === 'visitor') ids.visitors.add(subject.visitorId);
    else if (subject.kind === 'customer') ids.customers.add(subject.customerId);
    else if (subject.kind === 'telegram') {
      // The same keyed hash the redirector keeps of the user id (shared/telegram.ts): the id itself is kept nowhere.
      const key = await ctx.secret(ws, 'email_hash_key');
      if (!key) return err('not_found', `Workspace "${ws.name}" has no redirector connected, so no Telegram user is stored in it. Connect it, or search by visitor id.`);
      ids.telegrams.add(await hashTelegramUser(subject.userId, key));
    } else {
      const key = await ctx.secret(ws, 'email_hash_key');
      if (!key) return err('not_found', `Workspace "${ws.name}" has no redirector connected, so no email is stored in it (they are kept only as hashes under the redirector's key). Connect it, or search by visitor or customer id.`);
      ids.emails.add(await hashEmail(subject.email, key));
    }
    return ok(ids);
  };

  /** What the redirector holds: asked by each email hash, then each visitor not bound to one already asked. */
  const cloudFind = async (client: RedirectorClient | null, ids: PersonIds): Promise<CloudOutcome | null> => {
    if (!client) return null;
    const counts: Record<string, number> = {};
    const covered = new Set<string>();
    try {
      const ask = async (query: { visitorId: string } | { emailHash: string }) => {
        const person = await client.people(query);
        for (const [k, n] of Object.entries(person.counts)) if (typeof n === 'number') counts[k] = (counts[k] ?? 0) + n;
        for (const v of person.visitorIds ?? []) {
          covered.add(v);
          ids.visitors.add(v);
        }
      };
      for (const userHash of [...ids.telegrams]) {
        const person = await telegramPerson(client, userHash);
        for (const [k, n] of Object.entries(person.counts)) if (typeof n === 'number') counts[k] = (counts[k] ?? 0) + n;
        for (const v of person.visitorIds ?? []) ids.visitors.add(v);
      }
      for (const emailHash of [...ids.emails]) await ask({ emailHash });
      for (const visitorId of [...ids.visitors]) if (!covered.has(visitorId)) await ask({ visitorId });
      return { reached: true, counts };
    } catch (e) {
      if (!(e instanceof RedirectorError)) throw e;
      return { reached: false, problem: e.message };
    }
  };

  const find = async (args: SubjectArgs, kind: RequestKind) => {
    const found = ctx.resolve(args.workspace);
    if (!found.ok) return found.error;
    const subject = readSubject(args);
    if (!subject.ok) return subject;
    const { workspace: ws, db } = found;
    const start = await startIds(ws, subject.value);
    if (!start.ok) return start;
    const client = await deps.redirector(ws);
    // The cloud first: it may know visitors bound to the email that no pull has brought here yet.
    const cloud = await cloudFind(client, start.value);
    const ids = linkIdentifiers(db, start.value);
    const rows = personRows(db, ids);
    const local = Object.fromEntries(PERSON_TABLES.map((t) => [t, rows[t].length])) as Record<PersonTable, number>;
    const person: PersonFound = {
      scope: subject.value.kind,
      linked: { visitors: ids.visitors.size, emails: ids.emails.size, customers: ids.customers.size, telegrams: ids.telegrams.size },
      local,
      cloud,
      total: sum(local) + (cloud?.reached ? sum(cloud.counts) : 0),
    };
    return ok({ ws, db, ids, rows, person, client, kind });
  };

  const log = (db: Db, kind: RequestKind, person: PersonFound, erased: Record<string, number> | null, cloud: CloudOutcome | null) =>
    logRequest(db, { at: ctx.clock.now(), kind, scope: person.scope, found: person.local, erased, cloud });

  /**
   * Erases on the redirector by each email hash, then each visitor, then the Stripe webhook hints naming the
   * person's Stripe objects (a redirector older than those hints holds none); stops at the first failure.
   */
  const cloudErase = async (client: RedirectorClient, ids: PersonIds, stripeIds: string[]): Promise<CloudOutcome> => {
    const counts = { visitors: 0, items: 0, stripeHints: 0, telegramStarts: 0 };
    try {
      // First: the Telegram user's starts and the visitors they bound (the redirector erases those too).
      for (const userHash of ids.telegrams) {
        try {
          const r = await client.eraseTelegram(userHash);
          counts.telegramStarts += r.starts;
          counts.visitors += r.visitors;
          counts.items += r.items;
        } catch (e) {
          // A redirector older than Telegram support holds nothing of Telegram users.
          if (!(e instanceof RedirectorError && e.kind === 'missing')) throw e;
        }
      }
      for (const emailHash of ids.emails) {
        const r = await client.erase({ emailHash });
        counts.visitors += r.visitors;
        counts.items += r.items;
      }
      for (const visitorId of ids.visitors) {
        const r = await client.erase({ visitorId });
        counts.visitors += r.visitors;
        counts.items += r.items;
      }
      for (let i = 0; i < stripeIds.length; i += STRIPE_HINT_ERASE_MAX) {
        try {
          counts.stripeHints += (await client.eraseStripeHints(stripeIds.slice(i, i + STRIPE_HINT_ERASE_MAX))).deleted;
        } catch (e) {
          if (e instanceof RedirectorError && e.kind === 'missing') break;
          throw e;
        }
      }
      return { reached: true, counts };
    } catch (e) {
      if (!(e instanceof RedirectorError)) throw e;
      return { reached: false, problem: e.message };
    }
  };

  return {
    'privacy.find': async (args) => {
      const r = await find(args, 'find');
      if (!r.ok) return r;
      log(r.value.db, 'find', r.value.person, null, r.value.person.cloud);
      return ok(r.value.person);
    },

    'privacy.export': async (args) => {
      const r = await find(args, 'export');
      if (!r.ok) return r;
      const { ws, db, rows, person } = r.value;
      log(db, 'export', person, null, person.cloud);
      const files = exportFiles({
        workspaceName: ws.name,
        exportedAt: ctx.clock.now(),
        scope: person.scope,
        rows: rows as PersonRows,
        cloud: person.cloud?.reached ? person.cloud.counts : null,
      });
      return ok({ found: person, files });
    },

    'privacy.erase': async (args) => {
      const r = await find(args, 'erase');
      if (!r.ok) return r;
      const { ws, db, ids, rows, person, client } = r.value;
      let cloud: CloudOutcome | null = null;
      if (client) {
        cloud = await cloudErase(client, ids, stripeObjectIds(ids, rows));
        if (!cloud.reached) {
          log(db, 'erase', person, null, cloud);
          return err(
            'unavailable',
            `${cloud.problem} Nothing was erased on this computer yet, so the redirector can still be asked with the same identifiers: erase again once it answers (erasing twice is harmless).`,
          );
        }
      }
      const erased = await withSecureDelete(db, async () => {
        foldLegacyErasures(db);
        const counts = erasePerson(db, ids, ctx.clock.now());
        await deps.afterErase(ws, db);
        return counts;
      });
      log(db, 'erase', person, erased, cloud);
      ctx.log.info({ workspace: ws.id, scope: person.scope, found: person.total }, 'privacy erasure');
      const kept = erased.charges_anonymised + erased.commission_lines_anonymised + erased.telegram_payments_anonymised;
      const message =
        person.total === 0
          ? 'Nothing was held about this person; the request is logged.'
          : `Erased ${erased.clicks + erased.pageviews + erased.identities + erased.stripe_customers + erased.telegram_starts} records here${cloud?.reached ? ` and ${cloud.counts.items ?? 0} on the redirector` : ''}.${kept > 0 ? ` ${kept} payment and commission records stay as accounting records, under a tombstone id instead of the person.` : ''} Later syncs will not bring them back. Backups made before now still hold them until they are rotated out; restoring one erases them again.`;
      return ok({ found: person, erased, cloud, message });
    },

    'privacy.log': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      return ok(listRequests(found.db));
    },

    'privacy.settings': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      return ok(getDataSettings(found.db));
    },

    'privacy.saveSettings': async ({ workspace, ...input }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const current = getDataSettings(found.db);
      const next = { ...current, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as DataSettings;
      const problems: string[] = [];
      const int = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
      if (!int(next.retentionDays, 30, 3650)) problems.push('retentionDays: a whole number of days from 30 to 3650 (365 is 12 months)');
      if (!int(next.backupEveryHours, 1, 720)) problems.push('backupEveryHours: 1 to 720');
      if (!int(next.backupKeep, 1, 365)) problems.push('backupKeep: how many backups to keep, 1 to 365');
      if (typeof next.customerNames !== 'boolean') problems.push('customerNames: true (show Stripe names and emails) or false (short labels)');
      if (!Array.isArray(next.metadataKeys) || next.metadataKeys.length > 20 || !next.metadataKeys.every((k) => typeof k === 'string' && METADATA_KEY_RE.test(k))) {
        problems.push('metadataKeys: up to 20 Stripe metadata keys (letters, digits, _ . -), e.g. revtrail_vid');
      }
      if (next.backupDir !== null && (typeof next.backupDir !== 'string' || !next.backupDir.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(next.backupDir))) {
        problems.push('backupDir: a full folder path (or null for the default folder)');
      }
      if (problems.length > 0) return err('invalid_input', problems.join('; '));
      setDataSettings(found.db, { ...next, metadataKeys: [...new Set(next.metadataKeys)] }, ctx.clock.now());
      return ok(getDataSettings(found.db));
    },

    'privacy.purge': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      const now = ctx.clock.now();
      const before = now - getDataSettings(db).retentionDays * DAY_MS;
      const counts = await withSecureDelete(db, () => purgeEventsBefore(db, before));
      notePurge(db, now);
      return ok({ ...counts, before });
    },

    'privacy.cloudSettings': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const client = await deps.redirector(found.workspace);
      if (!client) return err('not_found', `Workspace "${found.workspace.name}" has no redirector yet: connect it to see its retention.`);
      try {
        return ok(await client.settings());
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        return err(e.kind === 'missing' ? 'not_found' : e.kind === 'unauthorized' ? 'unauthorized' : 'unavailable', e.message);
      }
    },

    'privacy.saveCloudSettings': async ({ workspace, retentionDays }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) return err('invalid_input', 'retentionDays: a whole number of days, 1 to 3650.');
      const client = await deps.redirector(found.workspace);
      if (!client) return err('not_found', `Workspace "${found.workspace.name}" has no redirector yet: connect it first.`);
      try {
        return ok(await client.putSettings({ retentionDays }));
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        return err(e.kind === 'rejected' ? 'invalid_input' : e.kind === 'missing' ? 'not_found' : e.kind === 'unauthorized' ? 'unauthorized' : 'unavailable', e.message);
      }
    },
  };
}
