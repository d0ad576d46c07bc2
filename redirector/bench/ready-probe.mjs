// Run by bench/ready.ts in a fresh plain `node` (no tsx, no loader), its working directory the bundle's root
// as /var/task is on Lambda: how long a cold process takes until it could answer, and its first answers.
// performance.now() counts from performance.timeOrigin, the start of this process.
//   node ready-probe.mjs bundle <path of lambda.mjs>   import the bundle (its top-level await builds the app), then two requests
//   node ready-probe.mjs bare                          import node:http, listen, then two requests over loopback (the reference)
// Then each measures its process's CPU per warm redirect: the handler called in this process (as Lambda's
// runtime calls it), or node:http answering GETs a client process sends over one keep-alive connection.
//   node ready-probe.mjs client <port> <warm-up> <count>  that client (started by `bare`)
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

/** This process's CPU time so far (user + system, all threads), ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const CPU_WARMUP = 200;
const CPU_REQUESTS = 1000;

/**
 * Process CPU (user + system) in µs per call of `run`, over `count` sequential calls after `warmup`, and when
 * those calls ran (ms since the process started: a profile's window, bench/cold-profile.ts).
 */
async function cpuPerCall(run, warmup, count) {
  for (let i = 0; i < warmup; i++) await run();
  const fromMs = performance.now();
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await run();
  const used = process.cpuUsage(before);
  return { us: (used.user + used.system) / count, fromMs, toMs: performance.now() };
}

async function timed(fn) {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

async function bare() {
  const http = await import('node:http');
  const modulesLoadedMs = performance.now();
  const modulesCpuMs = cpuMs();
  const server = http.createServer((_req, res) => res.writeHead(302, { location: 'https://brand.com/' }).end());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const readyMs = performance.now();
  const readyCpuMs = cpuMs();
  const { port } = server.address();
  const get = () =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/bench' }, (res) => res.resume().on('end', () => resolve(res.statusCode))).on('error', reject);
    });
  const first = await timed(get);
  const second = await timed(get);
  const cpuPerRequestUs = await serverCpu(http, server, port);
  server.close();
  return {
    startedMs,
    modulesMs: modulesLoadedMs - startedMs,
    buildMs: readyMs - modulesLoadedMs,
    appMs: readyMs - modulesLoadedMs,
    warmUpMs: 0,
    modulesCpuMs: modulesCpuMs,
    appCpuMs: readyCpuMs - modulesCpuMs,
    warmUpCpuMs: 0,
    readyMs,
    readyCpuMs,
    firstRequestMs: first.ms,
    secondRequestMs: second.ms,
    cpuPerRequestUs,
    cpuRequests: CPU_REQUESTS,
    cpuWarmup: CPU_WARMUP,
  };
}

/** This process's CPU per GET that a client process sends (its warm-up first), so the client's CPU is not counted. */
async function serverCpu(http, server, port) {
  const { fork } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  server.keepAliveTimeout = 30_000;
  const client = fork(fileURLToPath(import.meta.url), ['client', String(port), String(CPU_WARMUP), String(CPU_REQUESTS)], { stdio: 'ignore' });
  const next = () =>
    new Promise((resolve, reject) => {
      client.once('message', resolve);
      client.once('exit', (code) => reject(new Error(`the load client exited with ${code}`)));
    });
  await next(); // warmed up
  const before = process.cpuUsage();
  client.send('go');
  await next(); // done
  const used = process.cpuUsage(before);
  client.kill();
  return (used.user + used.system) / CPU_REQUESTS;
}

async function loadClient(port, warmup, count) {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/bench', agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  for (let i = 0; i < warmup; i++) await get();
  process.send('warm');
  await new Promise((resolve) => process.once('message', resolve));
  for (let i = 0; i < count; i++) await get();
  process.send('done');
}

async function bundle() {
  const { pathToFileURL } = await import('node:url');
  const lambda = await import(pathToFileURL(bundlePath).href);
  const readyMs = performance.now();
  const readyCpuMs = cpuMs();
  const { modulesLoadedMs, appReadyMs, readyMs: builtMs, cpuMs: cpu } = lambda.startup;
  const event = () => functionUrlEvent('/bench', process.env.BENCH_USER_AGENT ?? '');
  // The first click of a fresh instance, then a second one: each writes its click to the table.
  const first = await timed(() => lambda.handler(event(), lambdaContext));
  const second = await timed(() => lambda.handler(event(), lambdaContext));
  const warm = await cpuPerCall(async () => {
    const res = await lambda.handler(event(), lambdaContext);
    if (res.statusCode !== 302) throw new Error(`a warm redirect answered ${res.statusCode}`);
  }, CPU_WARMUP, CPU_REQUESTS);
  return {
    startedMs,
    modulesMs: modulesLoadedMs - startedMs,
    buildMs: builtMs - modulesLoadedMs,
    appMs: appReadyMs - modulesLoadedMs,
    warmUpMs: builtMs - appReadyMs,
    modulesCpuMs: cpu.modulesLoaded,
    appCpuMs: cpu.appReady - cpu.modulesLoaded,
    warmUpCpuMs: cpu.ready - cpu.appReady,
    readyMs,
    readyCpuMs,
    firstRequestMs: first.ms,
    secondRequestMs: second.ms,
    cpuPerRequestUs: warm.us,
    cpuRequests: CPU_REQUESTS,
    cpuWarmup: CPU_WARMUP,
    warmWindow: { fromMs: warm.fromMs, toMs: warm.toMs },
    check: { statusCode: first.result.statusCode, location: first.result.headers?.location ?? null },
  };
}

if (mode === 'client') {
  const [port, warmup, count] = process.argv.slice(3).map(Number);
  loadClient(port, warmup, count).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else (mode === 'bare' ? bare() : bundle()).then(
  (result) => send({ ok: true, result }, 0),
  (err) => send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 1),
);
