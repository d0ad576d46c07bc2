/** What a pasted Stripe key is, and whether Revtrail takes it. Never echoes the key itself. */
export type KeyVerdict = { ok: true; mode: 'live' | 'test' } | { ok: false; message: string };

const HOW_TO_MAKE_ONE =
  'Create a restricted key instead: Stripe Dashboard → Developers → API keys (https://dashboard.stripe.com/apikeys) → ' +
  'Create restricted key, and set Read on: Charges and Refunds, Customers, PaymentIntents, Subscriptions, Invoices, ' +
  'Disputes, Events, Balance. Leave everything else at None, then paste the rk_live_… (or rk_test_…) key.';

export function classifyStripeKey(raw: string): KeyVerdict {
  const key = raw.trim();
  const restricted = /^rk_(live|test)_[A-Za-z0-9]{8,}$/.exec(key);
  if (restricted) return { ok: true, mode: restricted[1] as 'live' | 'test' };
  if (/^sk_(live|test)_/.test(key)) {
    return {
      ok: false,
      message:
        'That is a secret key (sk_…), which can move money and change your account. Revtrail only reads, so it never ' +
        `asks for a full secret key and will not store one. ${HOW_TO_MAKE_ONE}`,
    };
  }
  if (/^pk_(live|test)_/.test(key)) {
    return { ok: false, message: `That is a publishable key (pk_…), which cannot read payments. ${HOW_TO_MAKE_ONE}` };
  }
  return { ok: false, message: `That does not look like a Stripe restricted key (it should start with rk_live_ or rk_test_). ${HOW_TO_MAKE_ONE}` };
}
