import { err, isCurrencyCode, normalizeEmail, ok, type Result } from '@revtrail/shared';
import type { CoreContext } from '../context';
import { stepFor, type Surface } from '../surface';
import type { Workspace } from '../workspaces/registry';

/**
 * Test mode: a workspace may talk to another Stripe API address than Stripe's, such as Revtrail's fake Stripe
 * (desktop/src/fake-stripe, `npm run fake-stripe`) or stripe-mock. The key is checked, classified and stored
 * as any key is (a restricted key, in the secret store). Only an address that answers GET /_fake/info as the
 * fake does is the fake: that is when the app offers "simulate a purchase", which asks the fake to make one.
 * Stripe itself has no /_fake/ path, and the address Stripe is at is never asked.
 */

/** Stripe's own API: the address a workspace talks to unless test mode sets another. */
export const STRIPE_API = 'https://api.stripe.com';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const EXAMPLE = 'e.g. http://127.0.0.1:12111 for the fake Stripe on this computer';

/**
 * A Stripe API address as typed: https, or http on this computer only (a key sent in the clear goes nowhere
 * else); no user name, path, query or fragment (the client takes a host and a port). Stripe's own address, or
 * nothing, is Stripe: `base` null.
 */
export function checkStripeApiBase(raw: unknown): { ok: true; base: string | null } | { ok: false; message: string } {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return { ok: true, base: null };
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (!URL.canParse(text)) return { ok: false, message: `The Stripe API address must be an https address, or http on this computer (${EXAMPLE}).` };
  const url = new URL(text);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: `The Stripe API address must be an https address, or http on this computer (${EXAMPLE}).` };
  if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) {
    return { ok: false, message: `The Stripe API address must be https, or http only on this computer (127.0.0.1 or localhost): a key is never sent in the clear over a network (${EXAMPLE}).` };
  }
  if (url.username || url.password || url.search || url.hash || text.includes('?') || text.includes('#') || url.pathname !== '/') {
    return { ok: false, message: `The Stripe API address is a scheme, a host and a port only, without a path, query or user name (${EXAMPLE}).` };
  }
  return { ok: true, base: url.origin === STRIPE_API ? null : url.origin };
}

/** What the fake Stripe says about itself (GET /_fake/info). */
export interface FakeStripeInfo {
  /** The currencies a simulated purchase may be in, lowercase. */
  currencies: string[];
  settlementCurrency: string;
}

export interface StripeTestMode {
  /** The address this workspace talks to; null: Stripe. */
  apiBase: string | null;
  /** Set when that address answers as Revtrail's fake Stripe. */
  fake: FakeStripeInfo | null;
  /** Why the address could not be asked (it did not answer); null otherwise. */
  problem: string | null;
}

export interface SimulatedPurchase {
  email: string;
  customerId: string;
  customerCreated: boolean;
  chargeId: string;
  amountMinor: number;
  currency: string;
}

export interface StripeTestModeHandlers {
  /** The workspace's Stripe API address, and whether it is the fake Stripe (asked now; never Stripe itself). */
  'stripe.testMode': (args: { workspace?: string }) => Promise<Result<StripeTestMode>>;
  /** Test mode with the fake Stripe only: a customer with that email charged now, as a purchase on the site would be. */
  'stripe.simulatePurchase': (args: { workspace?: string; email: string; amountMinor: number; currency: string }) => Promise<Result<SimulatedPurchase>>;
}

const MAX_AMOUNT = 99_999_999;

interface Call {
  status: number;
  body: unknown;
}

async function callFake(fetchFn: typeof fetch, base: string, path: string, key: string, account: string | null, body?: unknown): Promise<Call> {
  const res = await fetchFn(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      ...(account ? { 'stripe-account': account } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: not the fake.
  }
  return { status: res.status, body: json };
}

/** The fake's answer to GET /_fake/info, or null when the address answers as something else. */
export async function askFakeStripe(fetchFn: typeof fetch, base: string, key: string, account: string | null): Promise<FakeStripeInfo | null> {
  const r = await callFake(fetchFn, base, '/_fake/info', key, account);
  const b = r.body as { object?: unknown; currencies?: unknown; settlement_currency?: unknown } | null;
  if (r.status !== 200 || b?.object !== 'fake_info' || !Array.isArray(b.currencies) || typeof b.settlement_currency !== 'string') return null;
  return { currencies: b.currencies.filter((c): c is string => isCurrencyCode(c)).map((c) => c.toLowerCase()), settlementCurrency: b.settlement_currency };
}

const noAnswer = (base: string, e: unknown) => {
  const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
  return `Nothing answered at ${base}, the Stripe API address set for test mode (${cause === 'TimeoutError' ? 'no answer in time' : cause}): check that the server there is running, or go back to Stripe.`;
};

/** Where the workspace's Stripe API is: its own test-mode address, else the core's (REVTRAIL_STRIPE_API_BASE), else Stripe. */
export const stripeApiBaseOf = (ws: Workspace, fallback: string | undefined): string | null => ws.stripeApiBase ?? fallback ?? null;

export function createStripeTestModeHandlers(ctx: CoreContext, deps: { fetch: typeof fetch; fallbackBase: string | undefined }): StripeTestModeHandlers {
  const surface: Surface = ctx.surface;
  return {
    'stripe.testMode': async ({ workspace: ref }) => {
      const r = ctx.resolve(ref);
      if (!r.ok) return r.error;
      const ws = r.workspace;
      const apiBase = stripeApiBaseOf(ws, deps.fallbackBase);
      const key = await ctx.secret(ws, 'stripe_key');
      if (apiBase === null || key === null) return ok({ apiBase, fake: null, problem: null });
      try {
        return ok({ apiBase, fake: await askFakeStripe(deps.fetch, apiBase, key, ws.stripeAccount), problem: null });
      } catch (e) {
        return ok({ apiBase, fake: null, problem: noAnswer(apiBase, e) });
      }
    },

    'stripe.simulatePurchase': async ({ workspace: ref, email, amountMinor, currency }) => {
      const r = ctx.resolve(ref);
      if (!r.ok) return r.error;
      const ws = r.workspace;
      const address = typeof email === 'string' ? email.trim() : '';
      if (normalizeEmail(address) === null) return err('invalid_input', 'The buyer\'s email must be an email address, e.g. buyer@example.com.');
      if (!isCurrencyCode(currency)) return err('invalid_input', 'The currency is a three-letter code, e.g. USD.');
      if (typeof amountMinor !== 'number' || !Number.isSafeInteger(amountMinor) || amountMinor < 1 || amountMinor > MAX_AMOUNT) {
        return err('invalid_input', 'The amount must be more than zero and at most 999,999.99.');
      }
      const apiBase = stripeApiBaseOf(ws, deps.fallbackBase);
      const key = await ctx.secret(ws, 'stripe_key');
      const onlyFake = stepFor(surface, {
        app: 'Simulating a purchase works only with the fake Stripe: connect it under Test mode on the Set up screen.',
        cli: 'Simulating a purchase works only with the fake Stripe: connect it with `revtrail connect stripe --api-base http://127.0.0.1:12111`.',
      });
      if (apiBase === null || key === null) return err('not_found', onlyFake);
      let answer: Call;
      try {
        if (!(await askFakeStripe(deps.fetch, apiBase, key, ws.stripeAccount))) return err('invalid_input', `${apiBase} is not Revtrail's fake Stripe. ${onlyFake}`);
        answer = await callFake(deps.fetch, apiBase, '/_fake/purchases', key, ws.stripeAccount, { email: address, amount: amountMinor, currency: currency.toLowerCase() });
      } catch (e) {
        return err('unreachable', noAnswer(apiBase, e));
      }
      const b = answer.body as { customer?: { id?: unknown }; customer_created?: unknown; charge?: { id?: unknown; amount?: unknown; currency?: unknown }; error?: { message?: unknown } } | null;
      if (answer.status !== 200) {
        const said = typeof b?.error?.message === 'string' ? b.error.message : 'no reason given';
        ctx.log.info({ workspace: ws.id, status: answer.status }, 'fake Stripe refused a simulated purchase');
        return err(answer.status === 400 ? 'invalid_input' : 'unavailable', `The fake Stripe refused the purchase: ${said}`);
      }
      if (typeof b?.customer?.id !== 'string' || typeof b.charge?.id !== 'string') return err('unavailable', 'The fake Stripe answered the purchase without a customer or a charge.');
      ctx.log.info({ workspace: ws.id, charge: b.charge.id }, 'simulated purchase made on the fake Stripe');
      return ok({
        email: address,
        customerId: b.customer.id,
        customerCreated: b.customer_created === true,
        chargeId: b.charge.id,
        amountMinor,
        currency: currency.toUpperCase(),
      });
    },
  };
}
