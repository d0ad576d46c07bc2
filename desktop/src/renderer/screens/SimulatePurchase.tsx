import { useState, type FormEvent } from 'react';
import { currencyExponent, formatMinor, parseMajor } from '@revtrail/shared/money';
import type { SimulatedPurchase } from '../../core/stripe/test-mode';
import type { AppError } from '@revtrail/shared/result';
import { useApp } from '../app-context';
import { ErrorNote } from '../components/Notice';
import { formatMoney, plural } from '../format';
import { useAction, useResult } from '../hooks';

/**
 * Test mode with the fake Stripe: a purchase for an email, made by the fake as a real one would be on the
 * site, then a sync, so a newcomer sees their own click become revenue. Shown only when the workspace's Stripe
 * address answers as the fake (stripe.testMode), never with Stripe itself.
 */
export function SimulatePurchase({ version }: { version: number }) {
  const { rpc, workspace } = useApp();
  const ws = workspace!;
  const [mode] = useResult(() => rpc.call('stripe.testMode', { workspace: ws.id }), [ws.id, version]);
  if (mode.state !== 'ok') return null;
  if (!mode.value.fake) {
    return mode.value.problem ? <p className="warning">{mode.value.problem}</p> : null;
  }
  return <PurchaseForm currencies={mode.value.fake.currencies} settlement={mode.value.fake.settlementCurrency} />;
}

function PurchaseForm({ currencies, settlement }: { currencies: string[]; settlement: string }) {
  const { rpc, workspace } = useApp();
  const ws = workspace!;
  const [email, setEmail] = useState('');
  const [amount, setAmount] = useState('49.00');
  const [currency, setCurrency] = useState(settlement.toUpperCase());
  const [amountProblem, setAmountProblem] = useState<string | null>(null);
  const [made, setMade] = useState<SimulatedPurchase | null>(null);
  const [synced, setSynced] = useState<string | null>(null);
  const [syncError, setSyncError] = useState<AppError | null>(null);
  const buy = useAction((minor: number) => rpc.call('stripe.simulatePurchase', { workspace: ws.id, email: email.trim(), amountMinor: minor, currency }));
  const [syncing, setSyncing] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMade(null);
    setSynced(null);
    setSyncError(null);
    const minor = parseMajor(amount, currency);
    if (minor === null || minor < 1) {
      const digits = currencyExponent(currency);
      setAmountProblem(`Give an amount above zero in ${currency}, ${digits === 0 ? 'in whole units' : `with at most ${plural(digits, 'decimal')}`}, e.g. ${formatMinor(4900, currency)}.`);
      return;
    }
    setAmountProblem(null);
    const r = await buy.act(minor);
    if (r.ok) setMade(r.value);
  };

  // The pixel's identify and the purchase both have to come in: the redirector first, then Stripe.
  const sync = async () => {
    setSyncing(true);
    setSyncError(null);
    try {
      const redirector = await rpc.call('sync.redirector', { workspace: ws.id });
      if (!redirector.ok) return setSyncError(redirector.error);
      const stripe = await rpc.call('sync.stripe', { workspace: ws.id });
      if (!stripe.ok) return setSyncError(stripe.error);
      const charges = stripe.value.counts.charges.added;
      setSynced(`Synced: ${plural(redirector.value.identities, 'new sign-up')} from the pixel, ${plural(charges, 'new payment')} from the fake Stripe.`);
    } finally {
      setSyncing(false);
    }
  };

  return (
    <div className="card" data-step="simulate">
      <h2>Simulate a purchase (fake Stripe)</h2>
      <p className="muted">
        This workspace reads the fake Stripe, not your Stripe account. Make a purchase there for the email a visitor signed up with on your
        page, then sync: the dashboard credits it to the link they came through.
      </p>
      <form onSubmit={(e) => void submit(e)} aria-label="Simulate a purchase">
        <div className="row">
          <label>
            Buyer's email
            <input name="buyer-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="buyer@example.com" required />
          </label>
          <label>
            Amount
            <input
              name="amount"
              inputMode="decimal"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              required
              aria-invalid={amountProblem !== null}
              aria-describedby={amountProblem ? 'amount-problem' : undefined}
            />
          </label>
          <label>
            Currency
            <select name="currency" value={currency} onChange={(e) => setCurrency(e.target.value)}>
              {currencies.map((c) => (
                <option key={c} value={c.toUpperCase()}>
                  {c.toUpperCase()}
                </option>
              ))}
            </select>
          </label>
        </div>
        {amountProblem && (
          <p id="amount-problem" className="field-error" role="alert">
            {amountProblem}
          </p>
        )}
        <button type="submit" disabled={buy.busy}>
          {buy.busy ? 'Making the purchase…' : 'Simulate the purchase'}
        </button>
      </form>
      <ErrorNote error={buy.error} />
      {made && (
        <div role="status" className="notice">
          <p>
            The fake Stripe charged {made.email} {formatMoney(made.amountMinor, made.currency)} ({made.customerCreated ? 'a new customer' : 'an existing customer'}, charge{' '}
            <code>{made.chargeId}</code>). Sync to bring it in.
          </p>
          <button type="button" disabled={syncing} onClick={() => void sync()}>
            {syncing ? 'Syncing…' : 'Sync now'}
          </button>
        </div>
      )}
      <ErrorNote error={syncError} />
      {synced && (
        <p role="status" className="notice">
          {synced} <a href="#/dashboard">See it on the Dashboard</a>
        </p>
      )}
    </div>
  );
}
