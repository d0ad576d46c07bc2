import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_MS, err, ok, type Result, seededRandom } from '@revtrail/shared';
import { addCharge, addClick, addCustomer, addIdentity, addInvoice, addRefund, addSubscription } from '../core/attribution/testing/facts';
import { runAffiliateLedger } from '../core/affiliates/ledger';
import type { Core } from '../core/core';
import { openDatabase, type Db } from '../core/db/open';
import { upsertLinks } from '../core/redirector/repo';
import { WorkspaceRegistry, type Workspace } from '../core/workspaces/registry';

const CHANNELS = ['Newsletter', 'Paid social', 'Podcast', 'Affiliate', 'Search ads', 'Social', 'YouTube', 'Partners'];
const SPAN_DAYS = 90;

export interface SampleFacts {
  clicks: number;
  links: number;
  customers: number;
  subscriptions: number;
}

/**
 * Synced-looking facts for a workspace, written through the sync's own repo functions: `clicks` clicks over
 * the last 90 days on `links` links of eight channels (one of them an affiliate's), a visitor in 30 who
 * clicked signs up and pays a few days later (a third of them subscribe and renew monthly), one payment
 * in 20 is half refunded. Used by the sample workspace and by bench/ui.ts.
 */
export function writeSampleFacts(db: Db, opts: { clicks: number; links: number; now: number; partnerId?: string }): SampleFacts {
  const rand = seededRandom(42);
  const visitors = Math.max(1, Math.floor(opts.clicks / 3));
  const vid = (i: number) => `v${i.toString(36).padStart(21, '0')}`;
  const start = opts.now - SPAN_DAYS * DAY_MS;
  const links = Array.from({ length: opts.links }, (_, i) => {
    const channel = CHANNELS[i % CHANNELS.length]!;
    return {
      slug: `${channel.toLowerCase().replace(/\s+/g, '-')}-${i}`,
      destination: `https://shop.example/${['pricing', 'course', 'blog/launch', ''][i % 4]}`,
      channel,
      campaign: i % 3 === 0 ? null : `campaign-${i % 7}`,
      partnerId: channel === 'Affiliate' && opts.partnerId ? opts.partnerId : null,
      utm: { utm_source: channel.toLowerCase().replace(/\s+/g, '_'), utm_medium: 'link' },
      enabled: true,
      createdAt: start,
      updatedAt: start,
    };
  });
  upsertLinks(db, links);
  const firstClick = new Map<number, number>();
  const write = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const v = Math.floor(rand() * visitors);
      // Recent days busier than old ones, as a growing shop's are.
      const at = opts.now - Math.floor((1 - Math.sqrt(rand())) * SPAN_DAYS * DAY_MS);
      const link = links[Math.floor(rand() * links.length)]!;
      addClick(db, { id: `c${i.toString(36).padStart(9, '0')}`, at, visitorId: vid(v), slug: link.slug, channel: link.channel, campaign: link.campaign, partnerId: link.partnerId, utm: link.utm });
      const first = firstClick.get(v);
      if (first === undefined || at < first) firstClick.set(v, at);
    }
  });
  for (let from = 0; from < opts.clicks; from += 50_000) write(from, Math.min(opts.clicks, from + 50_000));

  let customers = 0;
  let subscriptions = 0;
  db.transaction(() => {
    for (const [v, at] of firstClick) {
      if (rand() >= 0.1) continue;
      const n = customers++;
      const paidAt = Math.min(opts.now - 60_000, at + Math.floor(rand() * 5 * DAY_MS));
      const customerId = `cus_sample${n}`;
      addIdentity(db, { id: `i${n}`, at: Math.min(paidAt - 1000, at + 60_000), visitorId: vid(v), emailHash: `sample${n}`, source: 'form' });
      addCustomer(db, customerId, `sample${n}`, paidAt);
      const amount = 1900 + Math.floor(rand() * 8) * 1000;
      const fee = (a: number) => Math.round(a * 0.029) + 30;
      if (rand() < 0.33) {
        const sub = `sub_sample${subscriptions++}`;
        addSubscription(db, sub, customerId, paidAt, 'USD');
        for (let k = 0, when = paidAt; when < opts.now; k++, when += 30 * DAY_MS) {
          const id = `ch_sample${n}_${k}`;
          addInvoice(db, { id: `in_sample${n}_${k}`, createdAt: when, subscriptionId: sub, billingReason: k === 0 ? 'subscription_create' : 'subscription_cycle', amountPaidMinor: amount, currency: 'USD', customerId });
          addCharge(db, { id, createdAt: when, amountMinor: amount, currency: 'USD', customerId, invoiceId: `in_sample${n}_${k}`, billingEmailHash: `sample${n}`, feeMinor: fee(amount), settlementCurrency: 'USD' });
        }
      } else {
        addCharge(db, { id: `ch_sample${n}`, createdAt: paidAt, amountMinor: amount, currency: 'USD', customerId, billingEmailHash: `sample${n}`, feeMinor: fee(amount), settlementCurrency: 'USD' });
        if (rand() < 0.05) addRefund(db, { id: `re_sample${n}`, createdAt: Math.min(opts.now - 1, paidAt + DAY_MS), chargeId: `ch_sample${n}`, amountMinor: Math.floor(amount / 2), currency: 'USD' });
      }
    }
  })();
  return { clicks: opts.clicks, links: links.length, customers, subscriptions };
}

const SAMPLES_FILE = 'sample-workspaces.json';

/** The ids of the workspaces made as samples (the UI labels them). */
export function sampleWorkspaceIds(dataDir: string): string[] {
  const path = join(dataDir, SAMPLES_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as string[]) : [];
}

/**
 * A workspace to look around in: made through the core's own handlers (workspace, affiliate program,
 * partner), its facts written as a sync writes them, its ledger built by the core. Labelled sample.
 */
export async function createSampleWorkspace(core: Pick<Core, 'call'>, deps: { dataDir: string; now: number }): Promise<Result<Workspace>> {
  const existing = await core.call('workspaces.list', {});
  if (!existing.ok) return existing;
  const name = 'Sample shop (demo data)';
  if (existing.value.some((w) => w.name === name)) return err('conflict', `"${name}" exists already: pick it in the workspace list.`);
  const ws = await core.call('workspaces.add', { name });
  if (!ws.ok) return ws;
  const id = ws.value.id;
  const program = await core.call('programs.add', { workspace: id, name: 'Partners 20%', rateBasisPoints: 2000, holdingDays: 30, startsAt: deps.now - 2 * SPAN_DAYS * DAY_MS });
  if (!program.ok) return program;
  const partner = await core.call('partners.add', { workspace: id, id: 'ann-sample', name: 'Ann Example (sample)', email: 'ann@example.org', method: 'paypal', paypalEmail: 'ann.paypal@example.org' });
  if (!partner.ok) return partner;
  const db = openDatabase(new WorkspaceRegistry(deps.dataDir).databasePath(id));
  try {
    writeSampleFacts(db, { clicks: 6000, links: 24, now: deps.now, partnerId: 'ann-sample' });
  } finally {
    db.close();
  }
  const rebuilt = await core.call('attribution.rebuild', { workspace: id });
  if (!rebuilt.ok) return rebuilt;
  // What a sync does after the ledger: commissions for the partner's customers.
  const own = openDatabase(new WorkspaceRegistry(deps.dataDir).databasePath(id));
  try {
    runAffiliateLedger(own, { now: deps.now, partnerEmailHashes: new Map() });
  } finally {
    own.close();
  }
  writeFileSync(join(deps.dataDir, SAMPLES_FILE), JSON.stringify([...sampleWorkspaceIds(deps.dataDir), id]));
  return ok(ws.value);
}
