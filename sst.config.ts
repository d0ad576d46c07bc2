// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- SST's types exist only at this generated path
/// <reference path="./.sst/platform/config.d.ts" />

// The redirector on AWS: infrastructure only, no src/ code. How to deploy: redirector/docs/deploy.md.
// Settings come from the deployer's environment, else from what the stage's last deploy recorded; the
// region from AWS_REGION or the AWS profile (else us-east-1).

type Env = Record<string, string | undefined>;

// Registries that sell names one level below a country code: brand.co.uk, brand.com.au, brand.co.jp.
const SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gob', 'gov', 'ltd', 'ne', 'net', 'nom', 'or', 'org', 'plc']);

/** REVTRAIL_DOMAIN as a bare host name: a scheme, path or port here would end up in cookies and URLs. */
export function hostName(value: string): string {
  const host = value.trim().toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(host)) {
    throw new Error(`REVTRAIL_DOMAIN must be a host name like go.brand.com (or none), got "${value}"`);
  }
  return host;
}

/** go.brand.com -> brand.com, go.brand.co.uk -> brand.co.uk: the site whose pages carry the pixel. */
export function apexDomain(host: string): string {
  const labels = hostName(host).split('.');
  const [sld = '', tld = ''] = labels.slice(-2);
  const keep = tld.length === 2 && SECOND_LEVEL.has(sld) ? 3 : 2;
  if (labels.length < keep) throw new Error(`${host} is a registry suffix, not a domain of yours`);
  return labels.slice(-keep).join('.');
}

/** REVTRAIL_DOMAIN=none: served from the function URL, on purpose (a prod deploy must name one or the other). */
const NO_DOMAIN = 'none';

/** The tracking host of these settings, or null for none. */
export function domainOf(settings: Env): string | null {
  const value = settings.REVTRAIL_DOMAIN?.trim();
  return !value || value.toLowerCase() === NO_DOMAIN ? null : hostName(value);
}

function wholeDays(env: Env, name: string, fallback: number): string {
  const value = env[name]?.trim() || String(fallback);
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${name} must be a whole number of days, got "${env[name]}"`);
  return value;
}

/** REVTRAIL_CONSENT, REVTRAIL_HONOR_GPC and REVTRAIL_META as typed, refused before a deploy when config.ts would refuse them at start. */
function choice(env: Env, name: string, allowed: readonly string[]): string | undefined {
  const value = env[name]?.trim();
  if (value && !allowed.includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${env[name]}"`);
  return value || undefined;
}

/** The redirector's non-secret settings (redirector/src/config.ts validates them again at start). */
export function redirectorEnvironment(env: Env): Record<string, string> {
  const domain = domainOf(env) ?? undefined;
  const apex = domain && apexDomain(domain);
  const settings: Record<string, string | undefined> = {
    REVTRAIL_PUBLIC_URL: domain && `https://${domain}`,
    REVTRAIL_COOKIE_DOMAIN: env.REVTRAIL_COOKIE_DOMAIN || apex,
    REVTRAIL_ALLOWED_ORIGINS: env.REVTRAIL_ALLOWED_ORIGINS || (apex && `https://${apex},https://www.${apex}`),
    REVTRAIL_RETENTION_DAYS: wholeDays(env, 'REVTRAIL_RETENTION_DAYS', 90),
    REVTRAIL_ATTRIBUTION_WINDOW_DAYS: wholeDays(env, 'REVTRAIL_ATTRIBUTION_WINDOW_DAYS', 30),
    REVTRAIL_FALLBACK_URL: env.REVTRAIL_FALLBACK_URL || undefined,
    REVTRAIL_CONSENT: choice(env, 'REVTRAIL_CONSENT', ['off', 'opt-out', 'opt-in']),
    REVTRAIL_HONOR_GPC: choice(env, 'REVTRAIL_HONOR_GPC', ['true', 'false']),
    REVTRAIL_META: choice(env, 'REVTRAIL_META', ['true', 'false']),
  };
  // Lambda takes only string values; an unset setting is left to config.ts's default.
  return Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => Boolean(e[1])));
}

// ---- settings kept with the stage ----------------------------------------------------------------------

/** The deploy-time settings docs/deploy.md lists; every deploy records them with the stage. */
export const SETTINGS = [
  'REVTRAIL_DOMAIN',
  'REVTRAIL_CERT_ARN',
  'REVTRAIL_COOKIE_DOMAIN',
  'REVTRAIL_ALLOWED_ORIGINS',
  'REVTRAIL_RETENTION_DAYS',
  'REVTRAIL_ATTRIBUTION_WINDOW_DAYS',
  'REVTRAIL_FALLBACK_URL',
  'REVTRAIL_CONSENT',
  'REVTRAIL_HONOR_GPC',
  'REVTRAIL_META',
  'REVTRAIL_ALARM_EMAIL',
] as const;

/** The SSM parameter (deploy region, standard tier, plain text: no secret is in it) holding a stage's last settings. */
export function settingsParameter(stage: string): string {
  return `/revtrail/${stage}/settings`;
}

/** The recorded settings as the parameter holds them (JSON of name to value); a malformed record is refused, not guessed at. */
export function parseRecordedSettings(text: string, name: string): Env {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`The stage's settings record ${name} is not JSON; fix or delete it in SSM Parameter Store, then deploy with every setting given.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new Error(`The stage's settings record ${name} is not an object of strings; fix or delete it in SSM Parameter Store, then deploy with every setting given.`);
  }
  return value as Env;
}

/**
 * This deploy's settings: each as the environment gives it (the shell, or .env and .env.<stage>, which SST
 * loads), an empty value meaning unset; a setting the environment does not mention keeps the value the
 * stage's last deploy recorded. So a deploy from another machine, or from CI, deploys what is deployed.
 */
export function stageSettings(env: Env, recorded: Env | null): { settings: Record<string, string>; fromRecord: string[] } {
  const settings: Record<string, string> = {};
  const fromRecord: string[] = [];
  for (const name of SETTINGS) {
    const given = env[name];
    const value = given !== undefined ? given.trim() : recorded?.[name];
    if (given === undefined && value !== undefined) fromRecord.push(name);
    if (value) settings[name] = value;
  }
  return { settings, fromRecord };
}

/** Stages whose deploys may not take the tracking domain or the visitors' cookies away without being told. */
export const GUARDED_STAGES = ['prod'];

/**
 * Why this deploy must not run, or null. On a guarded stage (outside `sst dev`), refused unless
 * REVTRAIL_CHANGE_DOMAIN=1: a first recorded deploy that names no domain (say REVTRAIL_DOMAIN=none to serve
 * from the function URL), and any deploy that would remove or change the recorded domain (every printed
 * link stops working) or change the cookie domain (every returning visitor becomes a new one).
 */
export function deployRefusal(input: { stage: string; dev: boolean; env: Env; recorded: Env | null; settings: Env }): string | null {
  const { stage, env, recorded, settings } = input;
  if (input.dev || !GUARDED_STAGES.includes(stage) || env.REVTRAIL_CHANGE_DOMAIN === '1') return null;
  const where = `Stage ${stage}'s settings are kept in SSM parameter ${settingsParameter(stage)}; a setting your environment (or .env.${stage}) leaves out keeps its recorded value.`;
  const meant = 'If that is what you mean, deploy again with REVTRAIL_CHANGE_DOMAIN=1.';
  if (recorded === null) {
    if (settings.REVTRAIL_DOMAIN !== undefined) return null;
    return [
      `Refusing to deploy stage ${stage}: no settings are recorded for it and REVTRAIL_DOMAIN is not set.`,
      `A stage deployed before its settings were recorded may have a tracking domain that this deploy would remove, taking every link offline.`,
      `Set REVTRAIL_DOMAIN=go.brand.com (your tracking domain, in .env.${stage} or the environment), or REVTRAIL_DOMAIN=none to serve from the function URL, and deploy again.`,
    ].join('\n');
  }
  const before = { domain: domainOf(recorded), cookie: redirectorEnvironment(recorded).REVTRAIL_COOKIE_DOMAIN ?? null };
  const after = { domain: domainOf(settings), cookie: redirectorEnvironment(settings).REVTRAIL_COOKIE_DOMAIN ?? null };
  const changes: string[] = [];
  if (before.domain !== null && before.domain !== after.domain) {
    changes.push(
      after.domain === null
        ? `it would remove the tracking domain ${before.domain} (the Router, its certificate and DNS record): every link on it would stop working`
        : `it would move the tracking domain from ${before.domain} to ${after.domain}: every link printed with ${before.domain} would stop working`,
    );
  }
  if (before.cookie !== null && before.cookie !== after.cookie) {
    changes.push(`it would change the visitor cookie's domain from ${before.cookie} to ${after.cookie ?? 'none (host-only)'}: every returning visitor would count as new`);
  }
  if (changes.length === 0) return null;
  return [`Refusing to deploy stage ${stage}:`, ...changes.map((c) => `  - ${c}`), where, meant].join('\n');
}

// ---- regions ---------------------------------------------------------------------------------------------

/**
 * Regions without Lambda function URLs (AWS Lambda Developer Guide, "Creating and managing Lambda function
 * URLs", read 2026-12-04), with the nearest regions that have them. (opt-in): an account enables it first.
 */
export const NO_FUNCTION_URLS: Record<string, { name: string; nearby: string[] }> = {
  'ap-east-2': { name: 'Asia Pacific (Taipei)', nearby: ['ap-east-1 (Hong Kong, opt-in)', 'ap-northeast-1 (Tokyo)'] },
  'ap-south-2': { name: 'Asia Pacific (Hyderabad)', nearby: ['ap-south-1 (Mumbai)'] },
  'ap-southeast-4': { name: 'Asia Pacific (Melbourne)', nearby: ['ap-southeast-2 (Sydney)'] },
  'ap-southeast-5': { name: 'Asia Pacific (Malaysia)', nearby: ['ap-southeast-1 (Singapore)'] },
  'ap-southeast-6': { name: 'Asia Pacific (New Zealand)', nearby: ['ap-southeast-2 (Sydney)'] },
  'ap-southeast-7': { name: 'Asia Pacific (Thailand)', nearby: ['ap-southeast-1 (Singapore)'] },
  'ca-west-1': { name: 'Canada West (Calgary)', nearby: ['ca-central-1 (Canada Central)', 'us-west-2 (Oregon)'] },
  'eu-central-2': { name: 'Europe (Zurich)', nearby: ['eu-central-1 (Frankfurt)', 'eu-south-1 (Milan, opt-in)'] },
  'eu-south-2': { name: 'Europe (Spain)', nearby: ['eu-west-3 (Paris)', 'eu-south-1 (Milan, opt-in)'] },
  'il-central-1': { name: 'Israel (Tel Aviv)', nearby: ['eu-central-1 (Frankfurt)', 'me-south-1 (Bahrain, opt-in)'] },
  'me-central-1': { name: 'Middle East (UAE)', nearby: ['me-south-1 (Bahrain, opt-in)', 'ap-south-1 (Mumbai)'] },
};

/** Why the redirector cannot be deployed to this region, or null. */
export function regionRefusal(region: string | undefined): string | null {
  const missing = region ? NO_FUNCTION_URLS[region] : undefined;
  if (!region || !missing) return null;
  return [
    `Refusing to deploy to ${region} (${missing.name}): AWS Lambda has no function URLs there, and the redirector is served from one.`,
    `Nearest regions that have them: ${missing.nearby.join(', ')}.`,
    `Pick one with AWS_REGION=<region> (use it for every later command on this stage); it is also where the visitors' data is stored.`,
  ].join('\n');
}

// ---- least privilege -------------------------------------------------------------------------------------

/**
 * The table's global indexes (redirector/src/store/dynamo.ts TABLE_INDEXES). Both functions query
 * byVisitorKeys, the redirector byEmail too (erasure, people). byVisitorKeys holds keys only, where byVisitor
 * copies every item: DynamoDB cannot change an index's projection, so it is a second index. byVisitor stays
 * for this release only, read by nothing: a deploy updates the table (the AWS provider creates a new index and
 * waits until it is ACTIVE) before the functions, whose policies name it, so the functions still running the
 * earlier code query byVisitor until they are replaced. The next release drops it (docs/table.md, "Indexes");
 * dropping it in this one would not do, since the provider deletes an index before it creates one.
 */
export const GLOBAL_INDEXES = {
  byVisitorKeys: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk', projection: 'keys-only' },
  byEmail: { hashKey: 'gsi2pk', rangeKey: 'gsi2sk' },
  byVisitor: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk' },
} as const;

/**
 * The DynamoDB actions each function's code calls, and the indexes it queries (store/dynamo.ts; the
 * Stripe webhook route adds conditional PutItem, UpdateItem ADD and DeleteItem; every append UpdateItem on
 * its feed's marker, store/feed-partitions.ts; reads through the keys-only index BatchGetItem). SST's link
 * would grant dynamodb:* on the table to an internet-facing function. test/lambda-bundle.test.ts runs the
 * built bundles and fails on a call outside these, or a query of another index.
 */
export const TABLE_ACCESS = {
  redirector: {
    actions: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DescribeTable',
    ],
    indexes: ['byVisitorKeys', 'byEmail'],
  },
  replay: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
    indexes: ['byVisitorKeys'],
  },
} as const satisfies Record<string, { actions: readonly string[]; indexes: readonly (keyof typeof GLOBAL_INDEXES)[] }>;

/** What the redirector does with the spill queue: send. SST's link would grant sqs:*. */
export const SPILL_ACTIONS = ['sqs:SendMessage'] as const;

type Arn = $util.Output<string>;

/** A function's permissions on the table: its actions on the table and on the indexes it queries. */
export function tablePermissions(fn: keyof typeof TABLE_ACCESS, tableArn: Arn) {
  const { actions, indexes } = TABLE_ACCESS[fn];
  return [{ actions: [...actions], resources: [tableArn, ...indexes.map((index) => tableArn.apply((arn) => `${arn}/index/${index}`))] }];
}

// ---- operations ------------------------------------------------------------------------------------------

/** Status codes CloudFront caches or lets a distribution set an error-caching TTL for (CloudFront Developer Guide, "Create a custom error page for specific HTTP status codes"). */
export const CLOUDFRONT_ERROR_CODES = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504] as const;

/**
 * Error caching off: CloudFront otherwise keeps an error for 10 s per URL and serves it to every visitor of
 * that link, even with the function answering again (and it ignores no-store on most error codes).
 */
export function uncachedErrorResponses() {
  return CLOUDFRONT_ERROR_CODES.map((errorCode) => ({ errorCode, errorCachingMinTtl: 0 }));
}

/** The message of the redirector's last-resort log line (redirector/src/recorder.ts SPILL_LOG_MESSAGE): an alarm counts these. */
export const SPILL_LOG_MESSAGE = 'events kept in this log line: replay them with npm run replay-log';

/** What the deployer copies: the tracking base URL, the snippet for the site, the desktop's connect command. */
export function trackingOutputs(base: string) {
  return {
    url: base,
    pixel: `<script async src="${base}/p.js" data-auto-identify></script>`,
    connect: `revtrail connect redirector --url ${base}   (npm run deploy does it; the token comes on stdin)`,
  };
}

/** The header redirector/src/visitor.ts (ORIGIN_PROOF_HEADER) requires before it believes CloudFront's viewer headers. */
export const ORIGIN_PROOF_HEADER = 'x-revtrail-origin-proof';

/**
 * CloudFront Functions code that sets the origin proof on a request, replacing any the viewer sent. SST
 * puts it first in the Router's viewer-request function; the function's headers reach the function URL
 * through the Router's origin request policy, as SST's own x-forwarded-host does.
 */
export function originProofInjection(secret: string): string {
  return `event.request.headers[${JSON.stringify(ORIGIN_PROOF_HEADER)}] = { value: ${JSON.stringify(secret)} };`;
}

// Both functions: Graviton costs ~20% less per GB-second, and a minified bundle without a source map keeps
// cold starts short. SST's Node build (sst/sst pkg/runtime/node/build.go) writes an ESM `.mjs` and a linked
// source map unless `nodejs.sourcemap` is left false, as here. Logs are kept 14 days: long enough to replay
// clicks kept in them (docs/deploy.md), and what the spill's dead-letter queue keeps too.
export const LAMBDA = {
  runtime: 'nodejs24.x', // the Node of .nvmrc, which the tests and the desktop's Electron run too
  architecture: 'arm64',
  nodejs: { minify: true, sourcemap: false },
  logging: { retention: '2 weeks' },
} as const;

/** The redirector function: redirects, /p.js, the pixel's collect endpoint, the desktop's sync API. */
export const REDIRECTOR_FUNCTION = {
  handler: 'redirector/src/lambda.handler',
  nodejs: {
    ...LAMBDA.nodejs,
    // What lambda.ts imports with import() (app.ts: the sync API, collect, webhooks, opt-out, and what only they
    // use) in chunks beside the handler's file, loaded on the first request that needs them: not at a cold start.
    splitting: true,
    esbuild: {
      // Fastify's JSON-schema compilers (ajv, fast-json-stringify), ~280 KB: the app gives Fastify none and
      // declares no schemas (redirector/src/app-base.ts, NO_SCHEMA_COMPILERS), so nothing requires them at run time.
      external: ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'],
    },
  },
  // CPU comes with memory and a redirect is on the visitor's path: 512 MB starts Fastify and the AWS SDK
  // several times faster than 128 MB, for ~$0.13 of compute per million 20 ms requests.
  memory: '512 MB',
  timeout: '5 seconds',
  copyFiles: [{ from: 'redirector/src/pixel/pixel.js', to: 'pixel.js' }],
} as const;

/** The spill queue's subscriber: writes spilled events into the table. */
export const REPLAY_FUNCTION = { handler: 'redirector/src/replay.handler', memory: '256 MB', timeout: '30 seconds' } as const;

export default $config({
  app(input) {
    const prod = input.stage === 'prod';
    return {
      name: 'revtrail',
      home: 'aws',
      removal: prod ? 'retain' : 'remove',
      // `sst remove --stage prod` would take every tracking link offline; REVTRAIL_ALLOW_REMOVE=1 means it.
      protect: prod && process.env.REVTRAIL_ALLOW_REMOVE !== '1',
      // For the generated secrets; the version SST's own components use (Function's encryption key).
      providers: { random: '4.16.6' },
    };
  },
  async run() {
    // The region SST deploys to (it sets SST_AWS_REGION for this program from the AWS configuration).
    const regionProblem = regionRefusal(process.env.SST_AWS_REGION);
    if (regionProblem) throw new Error(regionProblem);

    const recordName = settingsParameter($app.stage);
    const stored = await aws.ssm.getParametersByPath({ path: recordName.slice(0, recordName.lastIndexOf('/')) });
    const at = stored.names.indexOf(recordName);
    const recorded = at === -1 ? null : parseRecordedSettings(stored.values[at] ?? '', recordName);
    const { settings } = stageSettings(process.env, recorded);
    const refusal = deployRefusal({ stage: $app.stage, dev: $dev, env: process.env, recorded, settings });
    if (refusal) throw new Error(refusal);

    const environment = redirectorEnvironment(settings);
    const domain = domainOf(settings);
    const certArn = settings.REVTRAIL_CERT_ARN;

    // Linking gives a function the resource's name or URL; its permissions are the explicit ones below
    // (SST's link would add dynamodb:* and sqs:*). SST documents Linkable.wrap for changing a built-in link.
    sst.Linkable.wrap(sst.aws.Dynamo, (t) => ({ properties: { name: t.name } }));
    sst.Linkable.wrap(sst.aws.Queue, (q) => ({ properties: { url: q.url } }));

    const table = new sst.aws.Dynamo('Table', {
      fields: { pk: 'string', sk: 'string', gsi1pk: 'string', gsi1sk: 'string', gsi2pk: 'string', gsi2sk: 'string' },
      primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
      globalIndexes: GLOBAL_INDEXES,
      ttl: 'expiresAt',
      // SST turns point-in-time recovery on with AWS's 35-day window. 7 days still undoes a mistake noticed
      // within the week (the desktop keeps its own copy of every event), and an erased or expired item is
      // restorable for 7 days instead of 35 (docs/deploy.md, "Backups and restoring").
      transform: { table: { pointInTimeRecovery: { enabled: true, recoveryPeriodInDays: 7 } } },
    });

    // Generated on a stage's first deploy and kept in its state, in the deployer's AWS account; a value set
    // with `sst secret set` wins (stages deployed before these were generated keep theirs). config.ts loads
    // all three in the redirector; redirector/scripts/deploy.ts hands the sync token to the desktop.
    const secrets = ['SyncToken', 'EmailHashKey', 'IpSaltSeed'].map(
      (name) => new sst.Secret(name, new random.RandomPassword(`${name}Value`, { length: 48, special: false }).result),
    );
    // Stripe's webhook signing secret, set from stdin so the value stays out of the process list:
    // printf %s "whsec_…" | npm run -s sst -w redirector -- secret set StripeWebhookSecret --stage <stage>
    // (redirector/src/config.ts stripeSecretSetCommand). The placeholder lets a deploy run without one, and
    // the redirector reads `unset` as none.
    const stripeWebhookSecret = new sst.Secret('StripeWebhookSecret', 'unset');
    // Same-origin mode's proxy secret (docs/same-origin.md), set with `sst secret set ProxySecret`; the redirector
    // reads the placeholder `unset` as none and believes no merchant's proxy until it is set.
    const proxySecret = new sst.Secret('ProxySecret', 'unset');
    // The Telegram bot's token, its webhook's secret_token and the bot's previous webhook ("<url> <secret>"), set
    // with the commands `revtrail connect telegram` prints; `unset` until then (the endpoint then answers 503).
    const telegramSecrets = ['TelegramBotToken', 'TelegramSecretToken', 'TelegramForward'].map((name) => new sst.Secret(name, 'unset'));

    // Clicks the redirector could not write in time wait here; what fails 5 replays is kept 14 days.
    const spillDeadLetter = new sst.aws.Queue('SpillDeadLetter', {
      transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60 } },
    });
    const spill = new sst.aws.Queue('Spill', {
      visibilityTimeout: '3 minutes', // AWS: at least 6 x the subscriber's timeout
      dlq: { queue: spillDeadLetter.arn, retry: 5 },
    });
    // SST gives the subscriber the queue actions its trigger needs (ReceiveMessage, DeleteMessage, …).
    spill.subscribe(
      {
        ...LAMBDA,
        ...REPLAY_FUNCTION,
        link: [table],
        permissions: tablePermissions('replay', table.arn),
        environment, // the same retention, so replayed items expire when the others do
      },
      { batch: { size: 25, window: '5 seconds', partialResponses: true } },
    );

    // CloudFront in front of the function URL. SST routes a function URL with CloudFront's managed
    // AllViewerExceptHostHeader policy, which passes the viewer location headers (CloudFront-Viewer-Country).
    // DNS and certificate in Route 53 by default; DNS elsewhere needs a us-east-1 ACM cert, REVTRAIL_CERT_ARN.
    // The function URL is public too, so CloudFront's viewer headers are believed only with the origin
    // proof: a value generated once per stage that only the Router and the function hold.
    const originSecret = domain ? new random.RandomPassword('OriginSecretValue', { length: 48, special: false }) : undefined;
    // REVTRAIL_DNS_OVERRIDE=1 (one deploy): the domain's existing Route 53 record is replaced, not refused.
    const override = process.env.REVTRAIL_DNS_OVERRIDE === '1';
    const router =
      domain && originSecret
        ? new sst.aws.Router('Router', {
            domain: certArn ? { name: domain, dns: false, cert: certArn } : override ? { name: domain, dns: sst.aws.dns({ override: true }) } : domain,
            edge: { viewerRequest: { injection: originSecret.result.apply(originProofInjection) } },
            transform: { cdn: { customErrorResponses: uncachedErrorResponses() } },
          })
        : undefined;
    const originLink = originSecret && new sst.Linkable('OriginSecret', { properties: { value: originSecret.result } });

    const redirector = new sst.aws.Function('Redirector', {
      ...LAMBDA,
      ...REDIRECTOR_FUNCTION,
      // The app answers CORS itself (credentialed, allowed origins only); the URL's own CORS would override it.
      url: router ? { cors: false, router: { instance: router } } : { cors: false },
      link: [table, spill, ...secrets, stripeWebhookSecret, proxySecret, ...telegramSecrets, ...(originLink ? [originLink] : [])],
      permissions: [...tablePermissions('redirector', table.arn), { actions: [...SPILL_ACTIONS], resources: [spill.arn] }],
      copyFiles: [...REDIRECTOR_FUNCTION.copyFiles],
      nodejs: { ...REDIRECTOR_FUNCTION.nodejs, esbuild: { external: [...REDIRECTOR_FUNCTION.nodejs.esbuild.external] } },
      environment: { ...environment, REVTRAIL_STAGE: $app.stage },
    });

    // Alarms, mailed to REVTRAIL_ALARM_EMAIL when set (AWS mails a confirmation link first); without it
    // they show in the CloudWatch console only.
    const email = settings.REVTRAIL_ALARM_EMAIL;
    const topic = email ? new aws.sns.Topic('Alarms') : undefined;
    if (topic && email) new aws.sns.TopicSubscription('AlarmsEmail', { topic: topic.arn, protocol: 'email', endpoint: email });
    const notify = topic ? { alarmActions: [topic.arn], okActions: [topic.arn] } : {};
    const whenAny = { threshold: 0, comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, treatMissingData: 'notBreaching', ...notify };
    new aws.cloudwatch.MetricAlarm('SpillDeadLetterAlarm', {
      alarmDescription: 'Clicks failed 5 replays and wait in SpillDeadLetter, kept 14 days: see docs/deploy.md, "Clicks that waited in the queue".',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: spillDeadLetter.nodes.queue.name },
      statistic: 'Maximum',
      period: 300,
      ...whenAny,
    });
    new aws.cloudwatch.MetricAlarm('RedirectorThrottlesAlarm', {
      alarmDescription: 'Lambda refused redirector requests (account concurrency quota): see docs/deploy.md, "Lambda concurrency quota".',
      namespace: 'AWS/Lambda',
      metricName: 'Throttles',
      dimensions: { FunctionName: redirector.name },
      statistic: 'Sum',
      period: 60,
      ...whenAny,
    });
    // Clicks neither the table nor the queue took are only in the log, which keeps them 14 days.
    const metric = { name: 'EventsKeptInLog', namespace: `Revtrail/${$app.stage}` };
    new aws.cloudwatch.LogMetricFilter('EventsKeptInLogFilter', {
      // logging is on (LAMBDA.logging), so SST created the function's log group.
      logGroupName: redirector.nodes.logGroup.apply((group) => group!.name),
      pattern: JSON.stringify(SPILL_LOG_MESSAGE),
      metricTransformation: { ...metric, value: '1', defaultValue: '0' },
    });
    new aws.cloudwatch.MetricAlarm('EventsKeptInLogAlarm', {
      alarmDescription: 'Clicks were kept only in the redirector log (kept 14 days): run npm run replay-log, see docs/deploy.md, "Clicks kept in the log".',
      namespace: metric.namespace,
      metricName: metric.name,
      statistic: 'Sum',
      period: 300,
      ...whenAny,
    });

    // Recorded last, once the functions and the Router took these settings: the next deploy, from any
    // machine, starts from them.
    new aws.ssm.Parameter(
      'Settings',
      {
        name: recordName,
        type: 'String',
        value: JSON.stringify(settings),
        overwrite: true, // a prod stage removed (its record retained) and deployed again
        description: 'Revtrail: the settings of this stage\'s last deploy (sst.config.ts). No secrets.',
      },
      { dependsOn: [redirector, ...(router ? [router] : [])] },
    );

    const base = domain ? $output(`https://${domain}`) : redirector.url.apply((url) => url.replace(/\/$/, ''));
    const outputs = base.apply(trackingOutputs);
    return {
      url: outputs.url,
      pixel: outputs.pixel,
      connect: outputs.connect,
      ...(router && certArn ? { cname: router.nodes.cdn.apply((cdn) => cdn.nodes.distribution.domainName) } : {}),
    };
  },
});
