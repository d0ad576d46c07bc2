/**
 * `npm run fake-stripe -- ...`: start a fake Stripe (optionally delivering webhooks), or make a purchase
 * or a refund on one that is running. Bad input gets one plain line and exit 2, never a stack trace.
 * Amounts are typed in major units (49.00) and converted with the currency's exponent; --amount-minor
 * takes minor units instead.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseMajor, formatMinor, isCurrencyCode } from '@revtrail/shared/money';
import { normalizeEmail } from '@revtrail/shared/email';
import { CONTROL_PREFIX, type FakePurchaseAnswer, type FakeRefundAnswer } from './controls';
import type { Resource } from './permissions';
import { matchRoute } from './routes';
import { startFakeStripe, STANDARD_SECRET_KEY, type FakeStripe } from './server';
import { isEventTypeSelector, webhookUrl } from './webhook-endpoints';

export const DEFAULT_PORT = 12111;

export const USAGE = `Usage:
  npm run fake-stripe -- [server options]        a fake Stripe on 127.0.0.1 with test data (not Stripe)
  npm run fake-stripe -- purchase --email EMAIL --amount 49.00 [--currency usd] [options]
  npm run fake-stripe -- refund --charge ch_... [--amount 10.00] [options]

Server options:
  --port N                  port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  --lacking NAME            serve without /v1/NAME, as an older API does (repeatable), e.g. invoice_payments
  --webhook-url URL         sign and POST each event to URL as Stripe does, retrying with backoff until a 2xx
  --webhook-secret whsec_.. the signing secret (default: a new one, printed); FAKE_STRIPE_WEBHOOK_SECRET also works
  --webhook-events a,b      the event types to send (default *, every type)
  -h, --help                this text

purchase: a customer (the existing one with that email, or a new one) charged now, on a running fake
  --email EMAIL             the buyer's email (required)
  --amount 49.00            the amount in the currency's major units
  --amount-minor 4900       the amount in minor units instead (4900 is 49.00 USD, 4900 JPY is 4900 yen)
  --currency CODE           three letters (default usd)
  --name NAME               the new customer's name
  --description TEXT        the charge's description
  --metadata KEY=VALUE      set on the charge and its PaymentIntent (repeatable), e.g. revtrail_vid=...

refund: a refund of a charge, on a running fake
  --charge ch_...           the charge (required)
  --amount 10.00            in major units (or --amount-minor 1000); default: all that is left of the charge
  --reason REASON           requested_by_customer (default), duplicate or fraudulent

purchase and refund:
  --url URL                 the running fake (default http://127.0.0.1:${DEFAULT_PORT}, or FAKE_STRIPE_URL)
  --key sk_test_...         a secret key of that fake (default: the one every \`npm run fake-stripe\` accepts,
                            or FAKE_STRIPE_KEY)

Exit status: 0 done, 1 the fake could not be reached or failed, 2 bad input.
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

/** A finished command's exit code, or a server that keeps running until closed. */
export type CliOutcome = { code: number } | { serving: FakeStripe };

class UsageError extends Error {}

export async function runFakeStripeCli(argv: string[], io: CliIo): Promise<CliOutcome> {
  try {
    const [first, ...rest] = argv;
    if (first === 'purchase') return { code: await purchase(rest, io) };
    if (first === 'refund') return { code: await refund(rest, io) };
    if (first === 'help') return done(io, USAGE);
    return await serve(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\nRun \`npm run fake-stripe -- --help\` for the options.\n`);
      return { code: 2 };
    }
    throw error;
  }
}

function done(io: CliIo, text: string): CliOutcome {
  io.out(text);
  return { code: 0 };
}

/** node:util parseArgs, with its errors turned into one line for the user. */
function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`Unknown option ${/'[^']+'/.exec(message)?.[0] ?? message}.`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`Unexpected argument ${/'[^']+'/.exec(message)?.[0] ?? message}.`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(message.replace(/\.?$/, '.'));
    throw error;
  }
}

async function serve(argv: string[], io: CliIo): Promise<CliOutcome> {
  const values = parse(argv, {
    port: { type: 'string' },
    lacking: { type: 'string', multiple: true },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
    'webhook-events': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return done(io, USAGE);
  const port = Number(values.port ?? DEFAULT_PORT);
  if (!/^\d+$/.test(values.port ?? String(DEFAULT_PORT)) || port > 65_535) throw new UsageError('--port must be a number from 0 to 65535.');
  const lacking: Resource[] = [];
  for (const name of values.lacking ?? []) {
    const resource = matchRoute(`/v1/${name}`)?.resource;
    if (!resource) throw new UsageError(`--lacking takes an endpoint name such as invoice_payments; ${name} is not one.`);
    lacking.push(resource);
  }
  const webhook = webhookOptions(values, io.env);

  let fake: FakeStripe;
  try {
    fake = await startFakeStripe({ port, seed: 'default', lacking });
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      io.err(`Port ${port} on 127.0.0.1 is taken (another fake Stripe?). Stop it, or pick another port with --port N.\n`);
      return { code: 1 };
    }
    throw error;
  }
  const lines = [
    `Fake Stripe (test data, not Stripe) on ${fake.url}${lacking.length > 0 ? `, without /v1/${lacking.join(', /v1/')}` : ''}`,
    `  restricted key with every read permission: ${fake.keys.restricted}`,
    `  in the app: Set up → Stripe → "Test mode: another Stripe API address" ${fake.url}, and that key`,
    `  in a terminal: echo ${fake.keys.restricted} | npx revtrail connect stripe --api-base ${fake.url}`,
    `  secret key for its test controls (${CONTROL_PREFIX}...; purchase and refund use it by default): ${fake.keys.secret}`,
    `  a purchase: npm run fake-stripe -- purchase --email buyer@example.com --amount 49.00 --currency usd${port === DEFAULT_PORT ? '' : ` --url ${fake.url}`}`,
  ];
  if (webhook) {
    const { endpoint, secret } = fake.state.addWebhookEndpoint({ url: webhook.url, enabledEvents: webhook.events, secret: webhook.secret });
    lines.push(
      `Webhooks: each ${webhook.events.includes('*') ? '' : `${webhook.events.join(', ')} `}event is signed and POSTed to ${endpoint.url} (endpoint ${endpoint.id}),`,
      '  retried with backoff until it answers 2xx.',
      webhook.secret === undefined
        ? `  signing secret: ${secret}  (paste it into \`revtrail connect webhook\`)`
        : '  signing secret: the one you gave.',
    );
  }
  io.out(`${lines.join('\n')}\n`);
  return { serving: fake };
}

function webhookOptions(
  values: { 'webhook-url'?: string; 'webhook-secret'?: string; 'webhook-events'?: string },
  env: CliIo['env'],
): { url: string; secret: string | undefined; events: string[] } | null {
  const secret = values['webhook-secret'] ?? (env.FAKE_STRIPE_WEBHOOK_SECRET || undefined);
  if (values['webhook-url'] === undefined) {
    if (values['webhook-secret'] !== undefined || values['webhook-events'] !== undefined) {
      throw new UsageError('--webhook-secret and --webhook-events go with --webhook-url URL.');
    }
    return null;
  }
  const url = webhookUrl(values['webhook-url']);
  if (!url) throw new UsageError(`--webhook-url takes an http:// or https:// URL, e.g. http://127.0.0.1:8787/webhooks/stripe; "${values['webhook-url']}" is not one.`);
  if (secret !== undefined && !/^whsec_[A-Za-z0-9]{8,}$/.test(secret)) {
    throw new UsageError('The webhook secret must look like Stripe\'s: whsec_ followed by at least 8 letters or digits.');
  }
  const events = (values['webhook-events'] ?? '*').split(',').map((e) => e.trim()).filter((e) => e !== '');
  const bad = events.find((e) => !isEventTypeSelector(e));
  if (events.length === 0 || bad !== undefined) {
    throw new UsageError(`--webhook-events takes event types separated by commas, e.g. charge.succeeded,charge.refunded, or *${bad ? `; "${bad}" is not one` : ''}.`);
  }
  return { url: url.href, secret, events };
}

interface Target {
  url: string;
  key: string;
}

const TARGET_OPTIONS = { url: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function target(values: { url?: string; key?: string }, env: CliIo['env']): Target {
  const raw = values.url ?? (env.FAKE_STRIPE_URL || `http://127.0.0.1:${DEFAULT_PORT}`);
  const url = webhookUrl(raw);
  if (!url) throw new UsageError(`--url takes the fake's address, e.g. http://127.0.0.1:${DEFAULT_PORT}; "${raw}" is not one.`);
  const key = values.key ?? (env.FAKE_STRIPE_KEY || STANDARD_SECRET_KEY);
  if (!/^sk_test_\S+$/.test(key)) throw new UsageError('--key takes a secret test key of the fake (sk_test_...), as it printed when it started.');
  return { url: url.origin, key };
}

/** An amount from --amount (major units) or --amount-minor, or undefined when neither is given. */
function amountOf(values: { amount?: string; 'amount-minor'?: string }, currency: string): number | undefined {
  if (values.amount !== undefined && values['amount-minor'] !== undefined) throw new UsageError('Give --amount or --amount-minor, not both.');
  if (values['amount-minor'] !== undefined) {
    const minor = /^\d+$/.test(values['amount-minor']) ? Number(values['amount-minor']) : NaN;
    if (!Number.isSafeInteger(minor) || minor < 1) throw new UsageError(`--amount-minor takes a whole number of minor units, e.g. 4900; "${values['amount-minor']}" is not one.`);
    return minor;
  }
  if (values.amount === undefined) return undefined;
  const minor = parseMajor(values.amount, currency);
  if (minor === null || minor < 1) {
    const digits = formatMinor(4900, currency);
    throw new UsageError(`--amount takes a positive amount in ${currency.toUpperCase()} with at most the currency's decimals, e.g. ${digits}; "${values.amount}" is not one.`);
  }
  return minor;
}

async function purchase(argv: string[], io: CliIo): Promise<number> {
  const values = parse(argv, {
    ...TARGET_OPTIONS,
    email: { type: 'string' },
    amount: { type: 'string' },
    'amount-minor': { type: 'string' },
    currency: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    metadata: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const to = target(values, io.env);
  if (values.email === undefined || normalizeEmail(values.email) === null) {
    throw new UsageError(`purchase needs --email with the buyer's address, e.g. --email buyer@example.com${values.email === undefined ? '' : `; "${values.email}" is not one`}.`);
  }
  const currency = values.currency ?? 'usd';
  if (!isCurrencyCode(currency)) throw new UsageError(`--currency takes a three-letter code such as usd or eur; "${currency}" is not one.`);
  const amount = amountOf(values, currency);
  if (amount === undefined) throw new UsageError('purchase needs --amount (e.g. 49.00) or --amount-minor (e.g. 4900).');
  const metadata: Record<string, string> = {};
  for (const pair of values.metadata ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--metadata takes KEY=VALUE, e.g. revtrail_vid=vQ3x9Lk2PzR7mW4tB8nC1d; "${pair}" is not one.`);
    metadata[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const answer = await call(io, to, 'POST', '/_fake/purchases', {
    email: values.email,
    amount,
    currency: currency.toLowerCase(),
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values.description === undefined ? {} : { description: values.description }),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  });
  if (typeof answer === 'number') return answer;
  const made = answer as unknown as FakePurchaseAnswer;
  io.out(
    [
      `Charged ${made.customer.email} ${money(made.charge.amount, made.charge.currency)} on the fake Stripe at ${to.url}:`,
      `  customer  ${made.customer.id} (${made.customer_created ? 'new' : 'existing'})`,
      `  charge    ${made.charge.id} (${made.charge.status}), payment intent ${made.payment_intent.id}`,
      `  events    ${made.events.map((e) => `${e.type} ${e.id}`).join(', ')}`,
      `  ${webhookLine(made.webhook_endpoints)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function refund(argv: string[], io: CliIo): Promise<number> {
  const values = parse(argv, {
    ...TARGET_OPTIONS,
    charge: { type: 'string' },
    amount: { type: 'string' },
    'amount-minor': { type: 'string' },
    reason: { type: 'string' },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const to = target(values, io.env);
  if (values.charge === undefined || !/^(?:ch|py)_\w+$/.test(values.charge)) {
    throw new UsageError(`refund needs --charge with a charge id, e.g. --charge ch_1Fake...${values.charge === undefined ? '' : `; "${values.charge}" is not one`}.`);
  }
  let amount: number | undefined;
  if (values.amount !== undefined) {
    // Major units need the charge's currency to convert.
    const charge = await call(io, to, 'GET', `/v1/charges/${encodeURIComponent(values.charge)}`);
    if (typeof charge === 'number') return charge;
    amount = amountOf(values, String(charge.currency));
  } else amount = amountOf(values, 'usd');
  const answer = await call(io, to, 'POST', '/_fake/refunds', {
    charge: values.charge,
    ...(amount === undefined ? {} : { amount }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
  });
  if (typeof answer === 'number') return answer;
  const made = answer as unknown as FakeRefundAnswer;
  const { charge } = made;
  io.out(
    [
      `Refunded ${money(made.refund.amount, made.refund.currency)} of ${charge.id} (refund ${made.refund.id}, ${made.refund.status}) on the fake Stripe at ${to.url}:`,
      `  the charge now has ${money(charge.amount_refunded, charge.currency)} of ${money(charge.amount, charge.currency)} refunded${charge.refunded ? ' (fully refunded)' : ''}`,
      `  events    ${made.events.map((e) => `${e.type} ${e.id}`).join(', ')}`,
      `  ${webhookLine(made.webhook_endpoints)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

function money(minor: number, currency: string): string {
  return `${formatMinor(minor, currency)} ${currency.toUpperCase()}`;
}

function webhookLine(endpoints: string[]): string {
  return endpoints.length === 0
    ? 'webhooks  none: no endpoint takes these events (start the fake with --webhook-url URL to send them)'
    : `webhooks  being sent to ${endpoints.join(', ')} (GET /_fake/webhook_deliveries shows each attempt)`;
}

/** One request to the running fake: its JSON answer, or the exit code after saying what went wrong. */
async function call(io: CliIo, to: Target, method: string, path: string, body?: unknown): Promise<Record<string, unknown> | number> {
  let response: Response;
  try {
    response = await fetch(`${to.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${to.key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    io.err(`No fake Stripe answers at ${to.url} (${cause}). Start one with \`npm run fake-stripe\`, or point --url at it.\n`);
    return 1;
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (response.ok && json !== null && typeof json === 'object') return json as Record<string, unknown>;
  const message = (json as { error?: { message?: unknown } } | null)?.error?.message;
  const said = typeof message === 'string' ? message : `HTTP ${response.status}`;
  if (response.status === 401 || response.status === 403) {
    io.err(`The fake at ${to.url} refused the key: ${said}\nPass the secret key it printed with --key (or FAKE_STRIPE_KEY).\n`);
    return 2;
  }
  io.err(`The fake Stripe at ${to.url} refused: ${said}\n`);
  return response.status >= 400 && response.status < 500 ? 2 : 1;
}
