/**
 * `npm run fake-stripe`: the fake Stripe on 127.0.0.1 with the default seed, for trying the desktop
 * without a Stripe account. Prints where it listens and a restricted key to connect with.
 * `--lacking invoice_payments` (repeatable) makes it a server without that endpoint, as an older API is.
 */
import { parseArgs } from 'node:util';
import type { Resource } from './permissions';
import { matchRoute } from './routes';
import { startFakeStripe } from './server';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '12111' }, lacking: { type: 'string', multiple: true, default: [] } },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write('--port must be a number from 0 to 65535\n');
  process.exit(2);
}
const lacking: Resource[] = [];
for (const name of values.lacking) {
  const resource = matchRoute(`/v1/${name}`)?.resource;
  if (!resource) {
    process.stderr.write(`--lacking takes an endpoint name such as invoice_payments; ${name} is not one\n`);
    process.exit(2);
  }
  lacking.push(resource);
}
const fake = await startFakeStripe({ port, seed: 'default', lacking });
process.stdout.write(
  [
    `Fake Stripe (test data, not Stripe) on ${fake.url}${lacking.length > 0 ? `, without /v1/${lacking.join(', /v1/')}` : ''}`,
    `  REVTRAIL_STRIPE_API_BASE=${fake.url}`,
    `  restricted key with every read permission: ${fake.keys.restricted}`,
    `  e.g. echo ${fake.keys.restricted} | REVTRAIL_STRIPE_API_BASE=${fake.url} npx revtrail connect stripe`,
    '',
  ].join('\n'),
);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
