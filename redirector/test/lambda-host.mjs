// Lambda's Node runtime in miniature, for test/lambda-bundle.test.ts: a plain `node` (no tsx, no vitest
// transform) whose working directory is the bundle's root, as /var/task is. It imports the built handler file
// as the runtime does (its top-level await runs before the first event), then invokes the exported handler
// for each event the parent sends over IPC. Its stdout and stderr are the function's log.
//   node lambda-host.mjs <handler file> <export name>
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, exportName = 'handler'] = process.argv.slice(2);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'revtrail-test-Function';
const TIMEOUT_MS = 5000;
const errorText = (e) => (e instanceof Error ? (e.stack ?? e.message) : String(e));

let handler;
try {
  const mod = await import(pathToFileURL(resolve(file)).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${file} exports no function named ${exportName}`);
  process.send({ type: 'ready', importedMs: performance.now(), startup: mod.startup ?? null });
} catch (e) {
  process.send({ type: 'init-error', error: errorText(e) }, () => process.exit(1));
}

process.on('message', async ({ id, event }) => {
  const deadline = Date.now() + TIMEOUT_MS;
  const context = {
    awsRequestId: id,
    functionName,
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const start = performance.now();
  try {
    const result = await handler(event, context);
    process.send({ type: 'result', id, ok: true, result, ms: performance.now() - start });
  } catch (e) {
    process.send({ type: 'result', id, ok: false, error: errorText(e), ms: performance.now() - start });
  }
});
process.on('disconnect', () => process.exit(0));
