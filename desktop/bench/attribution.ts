/**
 * npm run bench:attribution [-- --sizes 10000,100000,1000000] — full re-attribution and the 30-day channels
 * report on synthetic workspaces of each size (clicks), about 1% of clicks converting: one-off charges,
 * subscriptions with monthly renewals, refunds (some partial), disputes in every state, six currencies (one
 * without any rate). Prints each size's figures, the growth factor between sizes, and beside them a
 * reference measured in the same run on the same database (a plain scan of every click; a plain count of
 * the report's 30 days of clicks). Writes bench/results/attribution.json. It reports; a missed target
 * still exits 0.
 *
 * The facts are written through the sync's own repo functions, so the rows are shaped as a sync leaves them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAY_MS, type Click, type Identity, type Pageview, seededRandom } from '@revtrail/shared';
import { addDays, dayInZone, zoneRange } from '@revtrail/shared/attribution/index';
import { rebuildAttribution } from '../src/core/attribution/ledger';
import { channelsReport, type ReportRange } from '../src/core/attribution/reports';
import { openDatabase, type Db } from '../src/core/db/open';
import { createFxConverter } from '../src/core/fx/rates';
import { insertClicks, insertIdentities, insertPageviews } from '../src/core/redirector/repo';
import {
  upsertCharges,
  upsertCustomers,
  upsertDisputes,
  upsertInvoices,
  upsertRefunds,
  upsertSubscriptions,
  type ChargeRow,
  type DisputeRow,
  type InvoiceRow,
  type RefundRow,
} from '../src/core/stripe/repo';

const RESULTS = fileURLToPath(new URL('./results/attribution.json', import.meta.url));
const TARGETS = { rebuildMsAt1M: 10_000, channelsReportMsAt1M: 100 };
/** Inside the bundled ECB history, so every convertible currency has its day's rate. */
const NOW = Date.parse('2026-03-31T12:00:00Z');
const SPAN_DAYS = 365;
const REPORT_RUNS = 7;

const CHANNELS = ['Newsletter', 'Paid social', 'Podcast', 'Affiliate', 'Search ads', 'Direct', 'Social', 'YouTube'];
/** [currency, share, typical amount in minor units, Stripe's USD rate when the ECB has none] */
const CURRENCIES: [string, number, number, number | null][] = [
  ['USD', 0.5, 4900, null],
  ['EUR', 0.2, 3900, null],
  ['GBP', 0.1, 2900, null],
  ['JPY', 0.1, 5000, null],
  ['AED', 0.05, 18000, 0.2723],
  ['KWD', 0.05, 15000, null],
];

interface Seeded {
  clicks: number;
  pageviews: number;
  identities: number;
  customers: number;
  charges: number;
  renewals: number;
  refunds: number;
  disputes: number;
  seedMs: number;
}

function seed(db: Db, clicks: number): Seeded {
  const started = performance.now();
  const rand = seededRandom(clicks);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const start = NOW - SPAN_DAYS * DAY_MS;
  const visitors = Math.max(1, Math.floor(clicks / 3));
  const vid = (i: number) => `v${i.toString(36).padStart(21, '0')}`;
  const links = Array.from({ length: 200 }, (_, i) => ({
    slug: `link-${i}`,
    channel: CHANNELS[i % CHANNELS.length]!,
    campaign: i % 3 === 0 ? null : `campaign-${i % 11}`,
    partnerId: CHANNELS[i % CHANNELS.length] === 'Affiliate' ? `partner_${i % 17}` : null,
  }));
  const firstClickOf = new Map<number, number>();
  const CHUNK = 10_000;

  for (let from = 0; from < clicks; from += CHUNK) {
    const page: Click[] = [];
    const views: Pageview[] = [];
    for (let i = from; i < Math.min(clicks, from + CHUNK); i++) {
      const at = start + Math.floor(rand() * SPAN_DAYS * DAY_MS);
      const v = Math.floor(rand() * visitors);
      const link = pick(links);
      const bot = rand() < 0.03;
      if (!bot) firstClickOf.set(v, Math.min(firstClickOf.get(v) ?? Infinity, at));
      page.push({
        id: `c${i.toString(36).padStart(9, '0')}`,
        slug: link.slug,
        at,
        visitorId: vid(v),
        referrerHost: rand() < 0.4 ? pick(['www.google.com', 't.co', 'www.facebook.com', 'news.ycombinator.com']) : null,
        referrerUrl: null,
        device: 'desktop',
        browser: 'Chrome',
        os: 'Windows',
        country: 'US',
        ipHash: null,
        clickIds: rand() < 0.3 ? { gclid: `g${i}` } : {},
        utm: { utm_source: link.channel.toLowerCase(), utm_medium: 'link' },
        bot,
        botReason: bot ? 'user_agent' : null,
        duplicate: !bot && rand() < 0.02,
        channel: link.channel,
        campaign: link.campaign,
        partnerId: link.partnerId,
      });
      // Half as many pageviews as clicks; a third of them land with a source of their own.
      if (i % 2 === 0) {
        const withSource = rand() < 0.33;
        views.push({
          id: `p${i.toString(36).padStart(9, '0')}`,
          at: at + Math.floor(rand() * 10 * DAY_MS),
          visitorId: vid(Math.floor(rand() * visitors)),
          url: 'https://brand.com/',
          referrerHost: withSource ? pick(['www.google.de', 'www.bing.com', 'www.reddit.com', 'blog.example.org']) : null,
          referrerUrl: null,
          clickIds: withSource && rand() < 0.3 ? { fbclid: `f${i}` } : {},
          utm: withSource && rand() < 0.5 ? { utm_source: pick(['newsletter', 'twitter', 'partnerco']), utm_medium: pick(['email', 'social', 'referral']) } : {},
          ipHash: null,
        });
      }
    }
    db.transaction(() => {
      insertClicks(db, page);
      insertPageviews(db, views);
    })();
  }

  // About 1% of clicks convert: a visitor who clicked becomes a customer a few days later.
  const converting = Math.max(1, Math.round(clicks / 100));
  const identities: Identity[] = [];
  const charges: ChargeRow[] = [];
  const refunds: RefundRow[] = [];
  const disputes: DisputeRow[] = [];
  const invoices: InvoiceRow[] = [];
  const subscriptions: { id: string; createdAt: number; customerId: string; status: string; currency: string; canceledAt: null; metadataJson: string }[] = [];
  const customers: { id: string; createdAt: number; emailHash: string }[] = [];
  const candidates = [...firstClickOf.keys()];
  let renewals = 0;
  const chooseCurrency = () => {
    let r = rand();
    for (const c of CURRENCIES) if ((r -= c[1]) < 0) return c;
    return CURRENCIES[0]!;
  };
  const charge = (id: string, customerId: string, at: number, cur: (typeof CURRENCIES)[number], amount: number, visitorId: string | null, invoiceId: string | null) => {
    const stripeRate = cur[3];
    charges.push({
      id,
      createdAt: at,
      status: 'succeeded',
      amountMinor: amount,
      amountCapturedMinor: amount,
      amountRefundedMinor: 0,
      refunded: false,
      disputed: false,
      currency: cur[0],
      customerId,
      paymentIntentId: null,
      invoiceId,
      billingEmailHash: null,
      receiptEmailHash: null,
      visitorId,
      metadataJson: '{}',
      // The account settles in USD; KWD stands for a charge read without the Balance permission.
      feeMinor: cur[0] === 'KWD' ? null : Math.round(amount * 0.029) + 30,
      netMinor: null,
      settlementCurrency: cur[0] === 'KWD' ? null : 'USD',
      exchangeRate: stripeRate,
    });
    const r = rand();
    if (r < 0.05) refunds.push({ id: `re_${id}`, createdAt: at + Math.floor(rand() * 20 * DAY_MS), chargeId: id, amountMinor: r < 0.025 ? Math.floor(amount / 2) : amount, currency: cur[0], status: 'succeeded', reason: null });
    else if (r < 0.06) disputes.push({ id: `dp_${id}`, createdAt: at + Math.floor(rand() * 30 * DAY_MS), chargeId: id, amountMinor: amount, currency: cur[0], status: pick(['needs_response', 'under_review', 'won', 'lost', 'warning_needs_response']), reason: null });
  };
  for (let n = 0; n < converting && candidates.length > 0; n++) {
    const v = candidates[Math.floor(rand() * candidates.length)]!;
    const at = Math.min(NOW - 1, firstClickOf.get(v)! + Math.floor(rand() * 20 * DAY_MS));
    const customerId = `cus_${n}`;
    const emailHash = `h${n}`;
    customers.push({ id: customerId, createdAt: at, emailHash });
    // Half pass the visitor id into Stripe; the others are found through the pixel's identify.
    const passesVisitor = rand() < 0.5;
    if (!passesVisitor) identities.push({ id: `i${n}`, at: at - 1000, visitorId: vid(v), emailHash, source: 'form' });
    const cur = chooseCurrency();
    const amount = Math.round(cur[2] * (0.5 + rand()));
    if (rand() < 0.3) {
      const sub = `sub_${n}`;
      subscriptions.push({ id: sub, createdAt: at, customerId, status: 'active', currency: cur[0], canceledAt: null, metadataJson: '{}' });
      invoices.push({ id: `in_${n}_0`, createdAt: at, customerId, subscriptionId: sub, billingReason: 'subscription_create', status: 'paid', currency: cur[0], amountPaidMinor: amount, totalMinor: amount });
      charge(`ch_${n}_0`, customerId, at, cur, amount, passesVisitor ? vid(v) : null, `in_${n}_0`);
      for (let k = 1, t = at + 30 * DAY_MS; t < NOW; k++, t += 30 * DAY_MS) {
        const reason = k % 5 === 0 ? 'subscription_update' : 'subscription_cycle';
        invoices.push({ id: `in_${n}_${k}`, createdAt: t, customerId, subscriptionId: sub, billingReason: reason, status: 'paid', currency: cur[0], amountPaidMinor: amount, totalMinor: amount });
        charge(`ch_${n}_${k}`, customerId, t + 3_600_000, cur, amount, null, `in_${n}_${k}`);
        renewals += 1;
      }
    } else {
      charge(`ch_${n}`, customerId, at, cur, amount, passesVisitor ? vid(v) : null, null);
    }
  }
  db.transaction(() => {
    upsertCustomers(db, customers);
    insertIdentities(db, identities);
    upsertSubscriptions(db, subscriptions);
    upsertInvoices(db, invoices);
    upsertCharges(db, charges);
    upsertRefunds(db, refunds);
    upsertDisputes(db, disputes);
  })();
  db.pragma('optimize');
  const pageviews = Math.ceil(clicks / 2);
  return { clicks, pageviews, identities: identities.length, customers: customers.length, charges: charges.length, renewals, refunds: refunds.length, disputes: disputes.length, seedMs: Math.round(performance.now() - started) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => Math.round(x * 10) / 10;

interface SizeResult {
  clicks: number;
  seeded: Seeded;
  fxLoadMs: number;
  rebuildMs: number;
  /** CPU time of this process during the rebuild: the figure that does not depend on what else the machine runs. */
  rebuildCpuMs: number;
  ledgerRows: number;
  channelsReportColdMs: number;
  channelsReportMs: number;
  channelsReportCpuMs: number;
  channelsRows: number;
  reference: { scanAllClicksMs: number; countReportClicksMs: number };
}

function runSize(clicks: number): SizeResult {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-bench-attribution-'));
  const db = openDatabase(join(dir, 'workspace.sqlite'));
  try {
    const seeded = seed(db, clicks);
    let t = performance.now();
    const fx = createFxConverter(db);
    const fxLoadMs = performance.now() - t;
    t = performance.now();
    let cpu = process.cpuUsage();
    const rebuilt = rebuildAttribution(db, fx, undefined, { clock: { now: () => NOW } });
    const rebuildMs = performance.now() - t;
    const rebuildCpu = process.cpuUsage(cpu);

    const to = dayInZone(NOW, 'UTC');
    const from = addDays(to, -29);
    const range: ReportRange = { from, to, timeZone: 'UTC', model: 'last_click', currency: 'USD', ...zoneRange(from, to, 'UTC') };
    const src = { db, ledgerCurrency: 'USD', fx: () => fx };
    t = performance.now();
    const first = channelsReport(src, range);
    const cold = performance.now() - t;
    const runs: number[] = [];
    const cpuRuns: number[] = [];
    for (let i = 0; i < REPORT_RUNS; i++) {
      t = performance.now();
      cpu = process.cpuUsage();
      channelsReport(src, range);
      runs.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      cpuRuns.push((used.user + used.system) / 1000);
    }
    t = performance.now();
    db.prepare(`SELECT sum(at) FROM clicks`).get();
    const scanAllClicksMs = performance.now() - t;
    t = performance.now();
    db.prepare(`SELECT count(*) FROM clicks WHERE at >= ? AND at < ?`).get(range.start, range.end);
    const countReportClicksMs = performance.now() - t;
    return {
      clicks,
      seeded,
      fxLoadMs: ms(fxLoadMs),
      rebuildMs: ms(rebuildMs),
      rebuildCpuMs: ms((rebuildCpu.user + rebuildCpu.system) / 1000),
      ledgerRows: rebuilt.rows,
      channelsReportColdMs: ms(cold),
      channelsReportMs: ms(median(runs)),
      channelsReportCpuMs: ms(median(cpuRuns)),
      channelsRows: first.rows.length,
      reference: { scanAllClicksMs: ms(scanAllClicksMs), countReportClicksMs: ms(countReportClicksMs) },
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = () => loadavg()[0]!.toFixed(1);
const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,100000,1000000' } } });
const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 100)) {
  console.error('--sizes: whole numbers of clicks, at least 100 each, e.g. --sizes 10000,100000');
  process.exit(2);
}

const results: SizeResult[] = [];
for (const n of sizes) {
  console.log(`[${n.toLocaleString('en-US')} clicks] seeding... (load average ${load()} on ${cpus().length} CPUs)`);
  const r = runSize(n);
  results.push(r);
  console.log(
    `[${n.toLocaleString('en-US')} clicks] seeded in ${(r.seeded.seedMs / 1000).toFixed(1)} s: ${r.seeded.customers} customers, ${r.seeded.charges} charges (${r.seeded.renewals} renewals), ` +
      `${r.seeded.refunds} refunds, ${r.seeded.disputes} disputes`,
  );
  console.log(
    `  re-attribution ${r.rebuildMs} ms (CPU ${r.rebuildCpuMs} ms; ${r.ledgerRows.toLocaleString('en-US')} ledger rows, 4 models; ECB rates loaded in ${r.fxLoadMs} ms)` +
      `   reference: scan of every click ${r.reference.scanAllClicksMs} ms`,
  );
  console.log(`  channels report, 30 days: ${r.channelsReportMs} ms median of ${REPORT_RUNS} (CPU ${r.channelsReportCpuMs} ms; first ${r.channelsReportColdMs} ms)   reference: count of those days' clicks ${r.reference.countReportClicksMs} ms`);
}
const growth = results.slice(1).map((r, i) => {
  const prev = results[i]!;
  return {
    from: prev.clicks,
    to: r.clicks,
    sizeFactor: r.clicks / prev.clicks,
    rebuild: Math.round((r.rebuildMs / prev.rebuildMs) * 100) / 100,
    rebuildCpu: Math.round((r.rebuildCpuMs / Math.max(0.1, prev.rebuildCpuMs)) * 100) / 100,
    channelsReport: Math.round((r.channelsReportMs / prev.channelsReportMs) * 100) / 100,
    channelsReportCpu: Math.round((r.channelsReportCpuMs / Math.max(0.1, prev.channelsReportCpuMs)) * 100) / 100,
    scanReference: Math.round((r.reference.scanAllClicksMs / Math.max(0.1, prev.reference.scanAllClicksMs)) * 100) / 100,
  };
});
for (const g of growth) {
  console.log(
    `growth ${g.from.toLocaleString('en-US')} -> ${g.to.toLocaleString('en-US')} clicks (x${g.sizeFactor}): re-attribution x${g.rebuild} (CPU x${g.rebuildCpu}), ` +
      `channels report x${g.channelsReport} (CPU x${g.channelsReportCpu}), reference scan x${g.scanReference}`,
  );
}
const million = results.find((r) => r.clicks === 1_000_000);
const verdict = million
  ? {
      rebuild: million.rebuildMs < TARGETS.rebuildMsAt1M ? 'met' : 'missed',
      channelsReport: million.channelsReportMs < TARGETS.channelsReportMsAt1M ? 'met' : 'missed',
    }
  : null;
if (verdict) console.log(`targets at 1M clicks: re-attribution < ${TARGETS.rebuildMsAt1M / 1000} s ${verdict.rebuild}; channels report < ${TARGETS.channelsReportMsAt1M} ms ${verdict.channelsReport}`);
writeFileSync(
  RESULTS,
  `${JSON.stringify(
    { at: new Date().toISOString(), machine: { platform: platform(), release: release(), arch: arch(), cpus: cpus().length, cpu: cpus()[0]?.model ?? null, memBytes: totalmem(), node: process.version, loadAverageAtEnd: loadavg() }, targets: TARGETS, sizes: results, growth, verdict },
    null,
    2,
  )}\n`,
);
console.log(`Results: ${RESULTS}`);
