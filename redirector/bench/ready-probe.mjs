// Run by bench/ready.ts in a fresh plain `node` (no tsx, no loader): how long a cold process takes until
// it could answer. performance.now() counts from performance.timeOrigin, the start of this process.
//   node ready-probe.mjs bundle <path of lambda.mjs>   import the bundle, then await createProxy()
//   node ready-probe.mjs bare                          import node:http, then listen (the reference)
const startedMs = performance.now();
const [mode, bundlePath] = process.argv.slice(2);

const send = (message, code) => process.send(message, () => process.exit(code));

const lambdaContext = {
  awsRequestId: 'bench-request',
  functionName: 'revtrail-bench-Redirector',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 5000,
};

// A Lambda function URL event (payload 2.0): what CloudFront forwards for GET /bench.
function functionUrlEvent(path, userAgent) {
  const host = 'bench.lambda-url.us-east-1.on.aws';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host, 'user-agent': userAgent, 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-forwarded-for': '203.0.113.7' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: host,
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent },
      requestId: 'bench-request',
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

async function main() {
  if (mode === 'bare') {
    const http = await import('node:http');
    const importedMs = performance.now();
    const server = http.createServer((_req, res) => res.end());
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const readyMs = performance.now();
    server.close();
    return { startedMs, importMs: importedMs - startedMs, readyMs };
  }
  const { pathToFileURL } = await import('node:url');
  const lambda = await import(pathToFileURL(bundlePath).href);
  const importedMs = performance.now();
  const proxy = await lambda.createProxy();
  const readyMs = performance.now();
  // Not timed: one redirect through the bundled app, its AWS SDK and the embedded table, to prove it works.
  const res = await proxy(functionUrlEvent('/bench', process.env.BENCH_USER_AGENT ?? ''), lambdaContext);
  return {
    startedMs,
    importMs: importedMs - startedMs,
    readyMs,
    check: { statusCode: res.statusCode, location: res.headers?.location ?? null },
  };
}

main().then(
  (result) => send({ ok: true, result }, 0),
  (err) => send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 1),
);
