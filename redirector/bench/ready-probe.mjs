// Run by bench/ready.ts in a fresh plain `node` (no tsx, no loader), its working directory the bundle's root
// as /var/task is on Lambda: how long a cold process takes until it could answer, and its first answers.
// performance.now() counts from performance.timeOrigin, the start of this process.
//   node ready-probe.mjs bundle <path of lambda.mjs>   import the bundle (its top-level await builds the app), then two requests
//   node ready-probe.mjs bare                          import node:http, listen, then two requests over loopback (the reference)
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

async function timed(fn) {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

async function bare() {
  const http = await import('node:http');
  const modulesLoadedMs = performance.now();
  const server = http.createServer((_req, res) => res.writeHead(302, { location: 'https://brand.com/' }).end());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const readyMs = performance.now();
  const { port } = server.address();
  const get = () =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/bench' }, (res) => res.resume().on('end', () => resolve(res.statusCode))).on('error', reject);
    });
  const first = await timed(get);
  const second = await timed(get);
  server.close();
  return { startedMs, modulesMs: modulesLoadedMs - startedMs, buildMs: readyMs - modulesLoadedMs, readyMs, firstRequestMs: first.ms, secondRequestMs: second.ms };
}

async function bundle() {
  const { pathToFileURL } = await import('node:url');
  const lambda = await import(pathToFileURL(bundlePath).href);
  const readyMs = performance.now();
  const { modulesLoadedMs, readyMs: builtMs } = lambda.startup;
  const event = () => functionUrlEvent('/bench', process.env.BENCH_USER_AGENT ?? '');
  // The first click of a fresh instance, then a second one: each writes its click to the table.
  const first = await timed(() => lambda.handler(event(), lambdaContext));
  const second = await timed(() => lambda.handler(event(), lambdaContext));
  return {
    startedMs,
    modulesMs: modulesLoadedMs - startedMs,
    buildMs: builtMs - modulesLoadedMs,
    readyMs,
    firstRequestMs: first.ms,
    secondRequestMs: second.ms,
    check: { statusCode: first.result.statusCode, location: first.result.headers?.location ?? null },
  };
}

(mode === 'bare' ? bare() : bundle()).then(
  (result) => send({ ok: true, result }, 0),
  (err) => send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 1),
);
