// Run by bench/load.ts in its own `node` process (plain node, no tsx): autocannon against one URL, its
// result sent back over IPC. A separate process, as wrk or autocannon's CLI are, so the server measured
// does not share its process (and its event loop or garbage collector) with the load it is given.
//   node load-process.mjs '<JSON of autocannon's options>'
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2] ?? '{}');
const send = (message, code) => process.send(message, () => process.exit(code));

autocannon(opts).then(
  (result) => send({ ok: true, result }, 0),
  (err) => send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 1),
);
