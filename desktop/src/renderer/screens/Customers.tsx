import type { Journey as JourneyData, JourneyEvent } from '../../core/attribution/reports';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { MODEL_LABELS } from '../components/ReportControls';
import { UnconvertedNote } from '../components/UnconvertedNote';
import { formatCount, formatMoney, formatTime, plural } from '../format';
import { hashOf, useHashLocation } from '../hash-route';
import { useDataVersion, useResult } from '../hooks';

/**
 * Customers by net revenue (all time), and one customer's journey at its own address (`#/customers/<key>`),
 * so Back from a journey returns to the list. Customers are named by a short label, never a Stripe id or hash.
 */
export function Customers() {
  const [location] = useHashLocation();
  return location.item === null ? <CustomerList /> : <JourneyView customer={location.item} key={location.item} />;
}

function CustomerList() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const version = useDataVersion();
  const [customers] = useResult(() => rpc.call('reports.customers', { workspace: ws.id, limit: 200 }), [ws.id, version]);
  const names = useCustomerNames(customers.state === 'ok' ? customers.value.rows.map((c) => c.customerId) : []);
  return (
    <section>
      <h1>Customers</h1>
      {customers.state === 'loading' && <Loading what="customers" />}
      {customers.state === 'error' && <ErrorNote error={customers.error} />}
      {customers.state === 'ok' && customers.value.rows.length === 0 && <p className="muted">No paying customers yet: connect Stripe and sync.</p>}
      {customers.state === 'ok' && customers.value.rows.length > 0 && (
        <>
          <p className="muted">
            {plural(customers.value.total, 'customer')}
            {customers.value.total > customers.value.rows.length ? `, the top ${formatCount(customers.value.rows.length)} shown` : ''}.{' '}
            {names.allowed
              ? 'Named as in Stripe, read from it as they are shown (Privacy).'
              : 'Each has a short label of its own: Revtrail keeps no names, and emails only as hashes (Privacy can allow Stripe names).'}{' '}
            Choose one to see how they came to pay.
          </p>
          {names.unavailable && <p className="warning">{names.unavailable}</p>}
          <table className="table" aria-label="Customers">
            <thead>
              <tr>
                <th>Customer</th>
                <th>First channel</th>
                <th>First payment</th>
                <th className="num">Payments</th>
                <th className="num">Net</th>
              </tr>
            </thead>
            <tbody>
              {customers.value.rows.map((c) => (
                <tr key={c.customerKey} data-customer={c.customerId ?? c.customerKey}>
                  <td>
                    <CustomerName label={c.label} name={c.customerId ? names.names[c.customerId] : undefined} href={hashOf('customers', c.customerKey)} />
                  </td>
                  <td>{c.firstChannel ?? '—'}</td>
                  <td>{formatTime(c.firstPaymentAt)}</td>
                  <td className="num">{formatCount(c.payments)}</td>
                  <td className="num">{formatMoney(c.netMinor, c.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <UnconvertedNote unconverted={customers.value.unconverted} currency={customers.value.currency} />
        </>
      )}
    </section>
  );
}

function JourneyView({ customer }: { customer: string }) {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const version = useDataVersion();
  const [journey] = useResult(() => rpc.call('reports.journey', { workspace: ws.id, customer }), [ws.id, customer, version]);
  return (
    <section aria-label="Journey">
      <p>
        <a href="#/customers">← All customers</a>
      </p>
      {journey.state === 'loading' && <Loading what="the journey" />}
      {journey.state === 'error' && <ErrorNote error={journey.error} />}
      {journey.state === 'ok' && <Journey j={journey.value} />}
    </section>
  );
}

function Journey({ j }: { j: JourneyData }) {
  const names = useCustomerNames([j.customer.stripeId]);
  const named = j.customer.stripeId ? names.names[j.customer.stripeId] : undefined;
  const title = named?.name ?? named?.email ?? null;
  return (
    <>
      <h1>
        Journey of {title ?? j.customer.label}
        {title && <span className="muted heading-note"> {j.customer.label}</span>}
      </h1>
      {named?.name && named.email && <p className="muted">{named.email}</p>}
      {names.unavailable && <p className="warning">{names.unavailable}</p>}
      <div className="card">
        <p>
          Net {formatMoney(j.totals.netMinor, j.currency)} (gross {formatMoney(j.totals.grossMinor, j.currency)}, refunds {formatMoney(j.totals.refundsMinor, j.currency)}),
          credited by {MODEL_LABELS[j.model].toLowerCase()}.
        </p>
        <ol className="timeline">
          {j.events.map((e) => (
            <li key={`${e.type}:${e.id}`} data-event={e.type}>
              <span className="when">{formatTime(e.at)}</span> {describe(e, j.currency)}
            </li>
          ))}
        </ol>
        <UnconvertedNote unconverted={j.unconverted} currency={j.currency} />
      </div>
    </>
  );
}

type Names = { allowed: boolean; names: Record<string, { name: string | null; email: string | null }>; unavailable: string | null };

/** The Stripe names of these customers where the workspace allows them (read at display time, never stored). */
function useCustomerNames(ids: readonly (string | null)[]): Names {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const wanted = ids.filter((id): id is string => id !== null && id.startsWith('cus_'));
  const key = wanted.join(',');
  const [names] = useResult(
    () => (wanted.length === 0 ? Promise.resolve({ ok: true as const, value: { allowed: false, names: {}, unavailable: null } }) : rpc.call('reports.customerNames', { workspace: ws.id, customers: wanted })),
    [ws.id, key],
  );
  return names.state === 'ok' ? names.value : { allowed: false, names: {}, unavailable: null };
}

/** A customer as the list shows them: Stripe's name or email when allowed and known, with the label beside; else the label. */
function CustomerName({ label, name, href }: { label: string; name: { name: string | null; email: string | null } | undefined; href: string }) {
  const shown = name?.name ?? name?.email ?? null;
  return (
    <>
      <a href={href}>{shown ?? label}</a>
      {shown && <span className="muted small"> {name?.name && name.email ? `${name.email} · ${label}` : label}</span>}
    </>
  );
}

function describe(e: JourneyEvent, currency: string): string {
  switch (e.type) {
    case 'click':
      return `Clicked ${e.slug ?? 'a link'} (${e.channel}${e.campaign ? `, ${e.campaign}` : ''}${e.partnerId ? `, partner ${e.partnerId}` : ''})`;
    case 'pageview':
      return `Visited the site from ${e.channel}`;
    case 'identify':
      return `Identified (${e.source === 'form' ? 'signed up with a form' : e.source})`;
    default: {
      const amount = e.convertedMinor === null ? formatMoney(e.amountMinor, e.currency) : formatMoney(e.convertedMinor, currency);
      const credit = e.credits.length ? ` → ${e.credits.map((c) => `${c.channel}${c.weight < 1 ? ` ${Math.round(c.weight * 100)}%` : ''}`).join(', ')}` : '';
      return `${label(e.type, e.renewal)} ${amount}${credit}`;
    }
  }
}

function label(kind: string, renewal: boolean): string {
  if (kind === 'charge') return renewal ? 'Renewal' : 'Payment';
  return kind.charAt(0).toUpperCase() + kind.slice(1).replace(/_/g, ' ');
}
