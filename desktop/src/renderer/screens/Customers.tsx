import { useState } from 'react';
import type { JourneyEvent } from '../../core/attribution/reports';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { UnconvertedNote } from '../components/UnconvertedNote';
import { formatCount, formatMoney, formatTime, plural } from '../format';
import { useDataVersion, useResult } from '../hooks';

/** Customers by net revenue (all time), and one customer's journey: clicks, visits, sign-up, payments. */
export function Customers() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const version = useDataVersion();
  const [customers] = useResult(() => rpc.call('reports.customers', { workspace: ws.id, limit: 200 }), [ws.id, version]);
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <section>
      <h1>Customers</h1>
      {customers.state === 'loading' && <Loading what="customers" />}
      {customers.state === 'error' && <ErrorNote error={customers.error} />}
      {customers.state === 'ok' && customers.value.rows.length === 0 && <p className="muted">No paying customers yet: connect Stripe and sync.</p>}
      {customers.state === 'ok' && customers.value.rows.length > 0 && (
        <div className="split">
          <div>
            <p className="muted">
              {plural(customers.value.total, 'customer')}{customers.value.total > customers.value.rows.length ? `, the top ${formatCount(customers.value.rows.length)} shown` : ''}. Emails are
              kept only as hashes; Stripe ids name them.
            </p>
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
                  <tr key={c.customerKey} className={selected === c.customerKey ? 'selected' : undefined} data-customer={c.customerId ?? c.customerKey}>
                    <td>
                      <button type="button" className="link" onClick={() => setSelected(c.customerKey)}>
                        {c.customerId ?? shortKey(c.customerKey)}
                      </button>
                    </td>
                    <td>{c.firstChannel}</td>
                    <td>{formatTime(c.firstPaymentAt)}</td>
                    <td className="num">{formatCount(c.payments)}</td>
                    <td className="num">{formatMoney(c.netMinor, c.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <UnconvertedNote unconverted={customers.value.unconverted} currency={customers.value.currency} />
          </div>
          {selected && <JourneyView customer={selected} key={selected} />}
        </div>
      )}
    </section>
  );
}

/** A customer key without a Stripe id is `email:<hash>` or `charge:<id>`: show enough to tell them apart. */
const shortKey = (key: string) => (key.length > 24 ? `${key.slice(0, 20)}…` : key);

function JourneyView({ customer }: { customer: string }) {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const version = useDataVersion();
  const [journey] = useResult(() => rpc.call('reports.journey', { workspace: ws.id, customer }), [ws.id, customer, version]);
  if (journey.state === 'loading') return <Loading what="the journey" />;
  if (journey.state === 'error') return <ErrorNote error={journey.error} />;
  const j = journey.value;
  return (
    <div className="card" aria-label="Journey">
      <h2>Journey of {j.customer.stripeId ?? shortKey(j.customer.key)}</h2>
      <p>
        Net {formatMoney(j.totals.netMinor, j.currency)} (gross {formatMoney(j.totals.grossMinor, j.currency)}, refunds {formatMoney(j.totals.refundsMinor, j.currency)}), credited by{' '}
        {j.model.replace(/_/g, ' ')}.
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
