/**
 * `npm run fake-stripe`: the fake Stripe on 127.0.0.1 with the default seed, for trying the desktop
 * without a Stripe account, or a purchase or refund on a running one (`--help` for all of it, cli.ts).
 */
import { runFakeStripeCli } from './cli';

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
  env: process.env,
};

try {
  const outcome = await runFakeStripeCli(process.argv.slice(2), io);
  if ('code' in outcome) process.exitCode = outcome.code;
  else {
    const stop = () => void outcome.serving.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
} catch (error) {
  // A bug in the fake, not bad input: one line, and the detail for whoever debugs it.
  process.stderr.write(`fake-stripe failed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.DEBUG) console.error(error);
  process.exitCode = 1;
}
