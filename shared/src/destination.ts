import { DESTINATION_MAX_LENGTH } from './url';

/**
 * Where a tracking link may send a visitor. The check reads the address the way browsers do (the WHATWG
 * URL parser, which also turns `2130706433`, `0x7f.1` and `%2E` into their plain forms) and answers its
 * serialised form, so what is stored, shown and exported is where the redirect goes.
 */
export type DestinationRule =
  | 'length'
  | 'control-characters'
  | 'not-a-url'
  | 'scheme'
  | 'backslash'
  | 'userinfo'
  | 'self'
  | 'cloud-metadata'
  | 'private-network';

export interface DestinationRules {
  /** Base URLs the redirector itself answers on (its public URL, the address a request reached it by). */
  self: readonly string[];
  /** Lifts the private-network rule only (a local redirector trying a site on this machine). */
  allowPrivate: boolean;
}

export type DestinationVerdict = { ok: true; url: string } | { ok: false; rule: DestinationRule; message: string };

/** The setting that lets a local redirector accept private-network destinations. */
export const ALLOW_PRIVATE_SETTING = 'REVTRAIL_ALLOW_PRIVATE_DESTINATIONS';

// C0 controls, DEL and C1 controls: the parser drops tab/CR/LF silently, so they must be refused before it.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

function refuse(rule: DestinationRule, why: string): DestinationVerdict {
  return { ok: false, rule, message: `refused by the ${rule} rule: ${why}` };
}

export function checkDestination(raw: string, rules: DestinationRules): DestinationVerdict {
  if (raw.length > DESTINATION_MAX_LENGTH) return refuse('length', `the address is longer than ${DESTINATION_MAX_LENGTH} characters.`);
  if (CONTROL_RE.test(raw)) {
    return refuse('control-characters', 'the address holds a tab, line break or other invisible control character, which browsers drop, so it would go somewhere other than it reads; type it again without them.');
  }
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (!url) return refuse('not-a-url', 'this is not a full web address; write it like https://brand.com/pricing.');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse('scheme', 'a destination must be an http or https address, like https://brand.com/pricing.');
  const authority = rawAuthority(raw);
  if (authority.includes('\\')) {
    return refuse('backslash', 'a \\ before the path is read as / by browsers, so the address goes to a different host than it shows; write / instead.');
  }
  if (authority.includes('@') || url.username || url.password) {
    return refuse('userinfo', 'the address has a user name or password before an @, which hides the host it really goes to; remove everything up to the @.');
  }
  const href = url.href;
  if (href.length > DESTINATION_MAX_LENGTH) return refuse('length', `the address is longer than ${DESTINATION_MAX_LENGTH} characters once written out in full.`);

  const host = canonicalHost(url.hostname);
  const port = effectivePort(url);
  if (reachesSelf(host, port, rules.self)) {
    return refuse('self', `${url.host} is this redirector's own tracking domain (in another spelling), so the link would send visitors round in a loop; point it at the page on your site.`);
  }
  const kind = hostKind(host);
  if (kind === 'metadata') {
    return refuse('cloud-metadata', `${url.hostname} is a cloud provider's instance metadata address, which no link may send a browser to; use the public address of the page.`);
  }
  if (kind && !rules.allowPrivate) {
    return refuse(
      'private-network',
      `${url.hostname} is ${KIND_TEXT[kind]}, which visitors cannot reach from the internet (or would reach inside their own network); use the public address of the page. On a local redirector, set ${ALLOW_PRIVATE_SETTING}=true to test against a site on this machine.`,
    );
  }
  return { ok: true, url: href };
}

/** What a link's destination must satisfy where the redirector is at `redirectorUrl` (the desktop's view). */
export function destinationRulesFor(redirectorUrl: string | null): DestinationRules {
  const host = redirectorUrl && URL.canParse(redirectorUrl) ? canonicalHost(new URL(redirectorUrl).hostname) : null;
  return { self: redirectorUrl ? [redirectorUrl] : [], allowPrivate: host !== null && isThisMachine(host) };
}

/** The text between `scheme:` and the path, as typed (before the parser reads `\\` as `/`), without the `//`. */
function rawAuthority(raw: string): string {
  const beforeQuery = raw.trimStart().split(/[?#]/, 1)[0] ?? '';
  const rest = beforeQuery.replace(/^[a-z][a-z0-9+.-]*:\/*/i, '');
  const end = rest.indexOf('/');
  return end === -1 ? rest : rest.slice(0, end);
}

/** The parser's hostname without trailing dots (`go.brand.com.` is `go.brand.com` to DNS). */
function canonicalHost(hostname: string): string {
  return hostname.toLowerCase().replace(/\.+$/, '');
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/**
 * A deployed redirector is its host on any port. A local one is any spelling of this machine on its port:
 * `localhost`, `0.0.0.0` and `[::1]` all reach a server listening on 127.0.0.1 (or on every interface).
 */
function reachesSelf(host: string, port: string, self: readonly string[]): boolean {
  for (const base of self) {
    if (!URL.canParse(base)) continue;
    const own = new URL(base);
    const ownHost = canonicalHost(own.hostname);
    if (isThisMachine(ownHost)) {
      if (isThisMachine(host) && port === effectivePort(own)) return true;
    } else if (host === ownHost) {
      return true;
    }
  }
  return false;
}

type HostKind = 'loopback' | 'unspecified' | 'private' | 'shared' | 'link-local' | 'reserved' | 'metadata' | 'local-name';

const KIND_TEXT: Record<Exclude<HostKind, 'metadata'>, string> = {
  loopback: 'a loopback address (the visitor\'s own machine)',
  unspecified: 'the unspecified address (the visitor\'s own machine)',
  private: 'a private-network address',
  shared: 'a carrier-grade NAT address (100.64.0.0/10)',
  'link-local': 'a link-local address',
  reserved: 'a multicast or reserved address',
  'local-name': 'a name that only resolves inside a local network',
};

function isThisMachine(host: string): boolean {
  const kind = hostKind(host);
  return kind === 'loopback' || kind === 'unspecified' || host === 'localhost' || host.endsWith('.localhost');
}

const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal']);
// Names reserved for private use: RFC 6761 (localhost), RFC 6762 (.local), RFC 8375 (home.arpa), ICANN's .internal.
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa'];

/** What kind of non-public place a canonical host is, or null for a public one. */
function hostKind(host: string): HostKind | null {
  if (host.startsWith('[')) return ipv6Kind(host.slice(1, -1));
  const v4 = parseIpv4(host);
  if (v4 !== null) return ipv4Kind(v4);
  if (METADATA_NAMES.has(host)) return 'metadata';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  // A name without a dot is completed by the visitor's search domains: it names a machine on their network.
  if (!host.includes('.') || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return 'local-name';
  return null;
}

/** The parser writes every IPv4 host as a dotted quad; anything else is a name. */
function parseIpv4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  return m.slice(1).reduce((n, part) => n * 256 + Number(part), 0);
}

const V4_RANGES: [string, number, HostKind][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['224.0.0.0', 3, 'reserved'],
];
const V4_METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200'].map((a) => parseIpv4(a)));

const V4_BLOCKS = V4_RANGES.map(([base, bits, kind]) => {
  const size = 2 ** (32 - bits);
  return { block: Math.floor((parseIpv4(base) ?? 0) / size), size, kind };
});

function ipv4Kind(ip: number): HostKind | null {
  if (V4_METADATA.has(ip)) return 'metadata';
  return V4_BLOCKS.find((b) => Math.floor(ip / b.size) === b.block)?.kind ?? null;
}

/** Eight 16-bit groups of an IPv6 address as the parser serialises it (hex groups, at most one `::`). */
function parseIpv6(text: string): number[] | null {
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return null;
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)) : []);
  const left = groups(head);
  const right = groups(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<number>(Math.max(fill, 0)).fill(0), ...right];
  return all.length === 8 && all.every((g) => Number.isInteger(g)) ? all : null;
}

const AWS_IPV6_METADATA = [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254];

function ipv6Kind(text: string): HostKind | null {
  const g = parseIpv6(text);
  if (!g) return 'reserved';
  const embedded = (hi: number, lo: number) => ipv4Kind(hi * 65536 + lo);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x, i) => x === AWS_IPV6_METADATA[i])) return 'metadata';
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d) carry an IPv4 address.
  if (zeroUpTo(5) && (g[5] === 0xffff || g[5] === 0)) return embedded(g[6]!, g[7]!);
  // NAT64 (RFC 6052's 64:ff9b::/96) reaches the embedded IPv4 address; 64:ff9b:1::/48 is local-use NAT64.
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    if (g[2] === 1) return 'private';
    if (g.slice(2, 6).every((x) => x === 0)) return embedded(g[6]!, g[7]!);
  }
  // 6to4 (2002::/16) carries the IPv4 address of the site it reaches in the next 32 bits.
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!);
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0 || (g[0]! & 0xfe00) === 0xfc00) return 'private';
  if ((g[0]! & 0xff00) === 0xff00) return 'reserved';
  return null;
}
