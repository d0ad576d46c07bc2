// The fault suite's load generator, run as its own process so the redirector under test and the test
// runner do not share its CPU time or its event loop:
//   node --import tsx test/faults/load.ts --url http://127.0.0.1:PORT/SLUG --run ID --out FILE
//     [--duration-ms 2500] [--concurrency 32] [--max 20000]
// Sends GET /SLUG?utm_content=ID-N for N = 0, 1, 2... over keep-alive connections until the duration or
// the count runs out, and appends each N answered with a 302 to FILE (one a line) as it goes. A refused or
// reset connection (the server killed) is not an answer: that N is dropped and the worker pauses briefly.
// Prints `started` at the first answer and one JSON line of totals at the end.
import { appendFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const REQUEST_TIMEOUT_MS = 3_000;
const FLUSH_EVERY_MS = 100;
const DOWN_PAUSE_MS = 25;

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    run: { type: 'string' },
    out: { type: 'string' },
    'duration-ms': { type: 'string', default: '2500' },
    concurrency: { type: 'string', default: '32' },
    max: { type: 'string', default: '20000' },
  },
  strict: true,
});
const target = new URL(values.url ?? '');
// Loopback only: this process exists to hammer a server on this machine, never anything else.
if (target.hostname !== '127.0.0.1' || target.protocol !== 'http:') {
  console.error(`--url must be http://127.0.0.1:PORT/SLUG, got "${values.url}"`);
  process.exit(2);
}
const run = values.run ?? '';
const out = values.out ?? '';
if (!/^[a-z0-9-]{1,40}$/.test(run) || !out) {
  console.error('--run (lowercase letters, digits, dashes) and --out are required');
  process.exit(2);
}
const durationMs = Number(values['duration-ms']);
const concurrency = Number(values.concurrency);
const max = Number(values.max);

writeFileSync(out, '');
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const totals = { sent: 0, answered: 0, otherStatus: 0, failed: 0 };
let pending: number[] = [];
const flush = () => {
  if (pending.length === 0) return;
  appendFileSync(out, pending.join('\n') + '\n');
  pending = [];
};
const flusher = setInterval(flush, FLUSH_EVERY_MS);

/** Resolves with the status, or null when the connection failed or timed out. */
function get(n: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}?utm_content=${run}-${n}`,
        headers: { 'user-agent': CHROME_UA },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? null));
        res.on('error', () => resolve(null));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(null));
    req.end();
  });
}

const deadline = Date.now() + durationMs;
let next = 0;
async function worker(): Promise<void> {
  while (Date.now() < deadline && next < max) {
    const n = next++;
    totals.sent += 1;
    const status = await get(n);
    if (status === 302) {
      if (totals.answered === 0) console.log('started');
      totals.answered += 1;
      pending.push(n);
    } else if (status === null) {
      totals.failed += 1;
      await new Promise((r) => setTimeout(r, DOWN_PAUSE_MS));
    } else {
      totals.otherStatus += 1;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
clearInterval(flusher);
flush();
agent.destroy();
console.log(JSON.stringify(totals));
