// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- SST's types exist only at this generated path
/// <reference path="./.sst/platform/config.d.ts" />

// The redirector on AWS: infrastructure only, no src/ code. How to deploy: redirector/docs/deploy.md.
// Settings come from the deployer's environment; the region from AWS_REGION or the AWS profile (else us-east-1).

type Env = Record<string, string | undefined>;

// Registries that sell names one level below a country code: brand.co.uk, brand.com.au, brand.co.jp.
const SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gob', 'gov', 'ltd', 'ne', 'net', 'nom', 'or', 'org', 'plc']);

/** REVTRAIL_DOMAIN as a bare host name: a scheme, path or port here would end up in cookies and URLs. */
export function hostName(value: string): string {
  const host = value.trim().toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(host)) {
    throw new Error(`REVTRAIL_DOMAIN must be a host name like go.brand.com, got "${value}"`);
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

function wholeDays(env: Env, name: string, fallback: number): string {
  const value = env[name]?.trim() || String(fallback);
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${name} must be a whole number of days, got "${env[name]}"`);
  return value;
}

/** REVTRAIL_CONSENT and REVTRAIL_HONOR_GPC as typed, refused before a deploy when config.ts would refuse them at start. */
function choice(env: Env, name: string, allowed: readonly string[]): string | undefined {
  const value = env[name]?.trim();
  if (value && !allowed.includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${env[name]}"`);
  return value || undefined;
}

/** The redirector's non-secret settings (redirector/src/config.ts validates them again at start). */
export function redirectorEnvironment(env: Env): Record<string, string> {
  const domain = env.REVTRAIL_DOMAIN ? hostName(env.REVTRAIL_DOMAIN) : undefined;
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
  };
  // Lambda takes only string values; an unset setting is left to config.ts's default.
  return Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => Boolean(e[1])));
}

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

// Both functions: Graviton costs ~20% less per GB-second, and a minified bundle without a source map
// (none is generated, so none lands in the zip) keeps cold starts short.
const lambda = {
  runtime: 'nodejs24.x', // the Node of .nvmrc, which the tests and the desktop's Electron run too
  architecture: 'arm64',
  nodejs: { minify: true, esbuild: { sourcemap: false } },
} as const;

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
    const environment = redirectorEnvironment(process.env);
    const domain = process.env.REVTRAIL_DOMAIN ? hostName(process.env.REVTRAIL_DOMAIN) : undefined;
    const certArn = process.env.REVTRAIL_CERT_ARN || undefined;

    const table = new sst.aws.Dynamo('Table', {
      fields: { pk: 'string', sk: 'string', gsi1pk: 'string', gsi1sk: 'string', gsi2pk: 'string', gsi2sk: 'string' },
      primaryIndex: { hashKey: 'pk', rangeKey: 'sk' },
      globalIndexes: {
        byVisitor: { hashKey: 'gsi1pk', rangeKey: 'gsi1sk' },
        byEmail: { hashKey: 'gsi2pk', rangeKey: 'gsi2sk' },
      },
      ttl: 'expiresAt',
      // Point-in-time recovery (35 days of restorable history, docs/deploy.md). SST turns it on today; said
      // here so that no change of SST's default turns it off.
      transform: { table: { pointInTimeRecovery: { enabled: true } } },
    });

    // Generated on a stage's first deploy and kept in its state, in the deployer's AWS account; a value set
    // with `sst secret set` wins (stages deployed before these were generated keep theirs). config.ts loads
    // all three in both functions; redirector/scripts/deploy.ts hands the sync token to the desktop.
    const secrets = ['SyncToken', 'EmailHashKey', 'IpSaltSeed'].map(
      (name) => new sst.Secret(name, new random.RandomPassword(`${name}Value`, { length: 48, special: false }).result),
    );

    // Clicks the redirector could not write in time wait here; what fails 5 replays is kept 14 days.
    const spillDeadLetter = new sst.aws.Queue('SpillDeadLetter', {
      transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60 } },
    });
    const spill = new sst.aws.Queue('Spill', {
      visibilityTimeout: '3 minutes', // AWS: at least 6 x the subscriber's timeout
      dlq: { queue: spillDeadLetter.arn, retry: 5 },
    });
    spill.subscribe(
      {
        ...lambda,
        handler: 'redirector/src/replay.handler',
        memory: '256 MB',
        timeout: '30 seconds',
        link: [table, ...secrets],
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
    const router =
      domain && originSecret
        ? new sst.aws.Router('Router', {
            domain: certArn ? { name: domain, dns: false, cert: certArn } : domain,
            edge: { viewerRequest: { injection: originSecret.result.apply(originProofInjection) } },
          })
        : undefined;
    const originLink = originSecret && new sst.Linkable('OriginSecret', { properties: { value: originSecret.result } });

    const redirector = new sst.aws.Function('Redirector', {
      ...lambda,
      handler: 'redirector/src/lambda.handler',
      // CPU comes with memory and a redirect is on the visitor's path: 512 MB starts Fastify and the AWS SDK
      // several times faster than 128 MB, for ~$0.13 of compute per million 20 ms requests.
      memory: '512 MB',
      timeout: '5 seconds',
      // The app answers CORS itself (credentialed, allowed origins only); the URL's own CORS would override it.
      url: router ? { cors: false, router: { instance: router } } : { cors: false },
      link: [table, spill, ...secrets, ...(originLink ? [originLink] : [])],
      copyFiles: [{ from: 'redirector/src/pixel/pixel.js', to: 'pixel.js' }],
      environment,
    });

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
