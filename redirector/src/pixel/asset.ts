/**
 * The first-party pixel, GET /p.js: pixel.js is served as written (no build step) but for the settings
 * object on its last line, which the app renders from its configuration when it starts (pixelSettings),
 * with its gzip and brotli forms and a strong ETag computed then. So the cookie lifetime and the consent
 * mode follow the deployment, and the merchant's snippet never changes:
 *   <script async src="https://go.brand.com/p.js" data-auto-identify></script>
 * or, in same-origin mode, src="https://brand.com/_rt/p.js" (the site's own prefix, docs/same-origin.md).
 *   { m: the rt_vid cookie's Max-Age in seconds (the attribution window),
 *     c: 'off' | 'opt-out' | 'opt-in' (REVTRAIL_CONSENT), g: 1 to honour navigator.globalPrivacyControl,
 *     f: 1 where the deployment forwards to Meta (REVTRAIL_META) }
 *
 * The stub that queues calls made before the pixel has loaded (the site puts it before them):
 *   <script>window.revtrail=window.revtrail||function(){revtrail.q.push([].slice.call(arguments))};revtrail.q=revtrail.q||[];revtrail.identify=revtrail.identify||function(e){revtrail('identify',e)}</script>
 *
 * What pixel.js posts, as text/plain JSON (a CORS-safelisted type: no preflight, and the tracking domain's
 * cookies travel along) to `<directory of the script's URL>/api/v1/collect`, by sendBeacon or else a
 * keepalive fetch with credentials:
 *   { t: 'pageview', url, ref, vid?, fbc?, fbp? }              once on load
 *   { t: 'identify', email, url, src: 'api' | 'form', vid? }  revtrail.identify(email), or a form submit
 *                                                              when the tag has data-auto-identify
 * `url` is location.href without rt_vid, `ref` is document.referrer, `email` is trimmed (<= 254 chars,
 * one "@" with no whitespace), and `vid` is present only when the page holds a valid visitor id
 * (22 chars of A-Za-z0-9_-). The pixel adopts a visitor id only from `rt_vid=` in the landing URL, which
 * the redirector appends when the destination is outside its cookie domain: it stores it in the site's
 * own `rt_vid` cookie (Max-Age `m`, Lax) and takes it out of the address bar with history.replaceState.
 * Same-site setups need no such cookie: the redirector's HttpOnly cookie goes along with each post.
 * Same-origin mode (docs/same-origin.md), where the script is served from the page's own host through the
 * site's prefix (brand.com/_rt/p.js): the pixel writes no rt_vid at all. The adopted id travels as `vid` and
 * collect sets the HttpOnly cookie with Set-Cookie from that host, the one cookie Safari does not cap.
 *
 * Consent and objection: `revtrail('consent', true|false)` (or pushed on the stub's queue) is remembered
 * in the site's `rt_consent` cookie (1 or 0, Max-Age `m`) unless c is 'off', where it is ignored. Nothing
 * is sent and no cookie is set while navigator.globalPrivacyControl is true (g = 1), consent was refused,
 * or, with c = 'opt-in', not yet given; the pageview waits for consent. Posts made with consent given
 * carry `c: 1`. Withdrawing consent removes the site's rt_vid and posts `{ t: 'forget' }`, for which the
 * redirector removes its own cookie and stores nothing.
 *
 * Meta: the pageview carries the site's `_fbc` and `_fbp` cookies (Meta's click id and browser id, set by Meta's
 * own pixel) when it has them, read as they are. With f = 1, a landing URL with an `fbclid` also sets `_fbc` to
 * `fb.<subdomain index>.<now in ms>.<fbclid>` (the format of
 * https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc; the index counts
 * the dots of the host, the cookie being host-only; Max-Age `m`), unless `_fbc` already holds that fbclid: a later
 * ad click replaces an older one. Like every cookie here, only once tracking is allowed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Config, ConsentMode } from '../config';

export interface PixelSettings {
  m: number;
  c: ConsentMode;
  g: 0 | 1;
  f: 0 | 1;
}

/** The settings object as pixel.js ships it (the defaults): exactly once, on its last line. */
export const PIXEL_SETTINGS_TEXT = '{"m":2592000,"c":"off","g":1,"f":0}';

export function pixelSettings(config: Pick<Config, 'attributionWindowDays' | 'consent' | 'honorGpc' | 'meta'>): PixelSettings {
  return { m: config.attributionWindowDays * 86_400, c: config.consent, g: config.honorGpc ? 1 : 0, f: config.meta ? 1 : 0 };
}

/** pixel.js with these settings in place of the shipped ones. Throws when the source has no settings slot. */
export function renderPixel(source: Buffer, settings: PixelSettings): Buffer {
  const text = source.toString('utf8');
  const at = text.lastIndexOf(PIXEL_SETTINGS_TEXT);
  if (at === -1 || text.indexOf(PIXEL_SETTINGS_TEXT) !== at) throw new Error(`pixel.js must hold ${PIXEL_SETTINGS_TEXT} once, on its last line`);
  const rendered = JSON.stringify({ m: settings.m, c: settings.c, g: settings.g, f: settings.f });
  return Buffer.from(text.slice(0, at) + rendered + text.slice(at + PIXEL_SETTINGS_TEXT.length), 'utf8');
}

export type PixelAsset = {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly brotli: Buffer;
  /** Strong validator of `body`, quoted as the ETag header wants it. */
  readonly etag: string;
};

export type ContentEncoding = 'br' | 'gzip' | 'identity';

/**
 * pixel.js's text where a bundler put it into the bundle (desktop/electron.vite.config.ts `define`s it for the
 * desktop app, whose bundle has no pixel.js beside it); not defined in the source tree or the Lambda, which read
 * the file.
 */
declare const REVTRAIL_PIXEL_JS: string | undefined;

/**
 * Where pixel.js is looked for when no bundler embedded it, in order:
 * 1. beside this module: the source tree under tsx or vitest, and an ESM bundle with pixel.js copied
 *    beside it (import.meta.url is then the bundle's own URL);
 * 2. beside the entry script, process.argv[1]: a CommonJS bundle, where import.meta.url is empty;
 * 3. the working directory: in Lambda that is the package root, /var/task, where SST's copyFiles
 *    `to: 'pixel.js'` lands, while the bundle sits at the handler's path and argv[1] is the runtime's.
 */
export function pixelCandidates(): string[] {
  const found: string[] = [];
  try {
    found.push(fileURLToPath(new URL('./pixel.js', import.meta.url)));
  } catch {
    // A CommonJS bundle has no import.meta.url; the entry script's directory is the next place to look.
  }
  const entry = process.argv[1];
  if (entry) found.push(join(dirname(entry), 'pixel.js'));
  found.push(join(process.cwd(), 'pixel.js'));
  return found;
}

/** The first candidate that exists. Throws when none does: a packaging bug, met when the app starts. */
export function findPixel(candidates: readonly string[] = pixelCandidates()): string {
  const hit = candidates.find((path) => existsSync(path));
  if (hit === undefined) {
    throw new Error(`pixel.js not found; looked in: ${candidates.join(', ')}. Copy it beside the server bundle.`);
  }
  return hit;
}

export function loadPixelAsset(opts: { path?: string; settings?: PixelSettings } = {}): PixelAsset {
  const embedded = opts.path === undefined && typeof REVTRAIL_PIXEL_JS === 'string' ? REVTRAIL_PIXEL_JS : undefined;
  const source = embedded === undefined ? readFileSync(opts.path ?? findPixel()) : Buffer.from(embedded, 'utf8');
  const body = opts.settings ? renderPixel(source, opts.settings) : source;
  return {
    body,
    gzip: gzipSync(body, { level: zlib.Z_BEST_COMPRESSION }),
    brotli: brotliCompressSync(body, {
      params: {
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/** RFC 9110 qvalue: 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The coding to send for an Accept-Encoding header (RFC 9110 §12.5.3). q=0 refuses a coding, `*` stands
 * for every coding not named, an entry with a malformed q is ignored, and on equal weights br wins over
 * gzip over identity. No header, or nothing acceptable, gives identity: the script is small, and an
 * uncompressed answer beats a 406 for a tracking tag.
 */
export function pickEncoding(acceptEncoding: string | undefined): ContentEncoding {
  const weights = new Map<string, number>();
  for (const entry of (acceptEncoding ?? '').split(',')) {
    const [coding = '', ...params] = entry.split(';').map((s) => s.trim());
    const name = coding.toLowerCase() === 'x-gzip' ? 'gzip' : coding.toLowerCase();
    let q = 1;
    for (const param of params) {
      const value = /^q\s*=\s*(.*)$/i.exec(param)?.[1];
      if (value !== undefined) q = QVALUE.test(value) ? Number(value) : Number.NaN;
    }
    if (name !== '' && !Number.isNaN(q) && !weights.has(name)) weights.set(name, q);
  }
  const any = weights.get('*');
  const br = weights.get('br') ?? any ?? 0;
  const gzip = weights.get('gzip') ?? any ?? 0;
  // Unnamed, identity is acceptable but the least preferred; named, it competes on its weight.
  const identity = weights.get('identity') ?? any ?? 0;
  const [best, weight]: [ContentEncoding, number] = br >= gzip ? ['br', br] : ['gzip', gzip];
  return weight > 0 && weight >= identity ? best : 'identity';
}
