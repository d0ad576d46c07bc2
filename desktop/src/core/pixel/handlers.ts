import { err, ok, type Result } from '@revtrail/shared';
import type { CoreContext } from '../context';
import { RedirectorError, type RedirectorClient, type RedirectorSettings } from '../redirector/client';
import type { Workspace } from '../workspaces/registry';

/** A site whose pixel the redirector refused, how often, and when last. */
export interface RefusedOrigin {
  origin: string;
  count: number;
  lastAt: number;
}

/** The sites the pixel may send events from, and those refused: what the Links screen's pixel panel shows. */
export interface PixelOrigins {
  /** Allowed from this app (changeable here). */
  allowed: string[];
  /** Allowed by the redirector's deployment (REVTRAIL_ALLOWED_ORIGINS), changed where it is deployed. */
  deployment: string[];
  /** Refused sites, most refused first; `otherRefused`: those beyond the ones the redirector keeps by name. */
  refused: RefusedOrigin[];
  otherRefused: number;
}

export interface PixelHandlers {
  'pixel.origins': (args: { workspace?: string }) => Promise<Result<PixelOrigins>>;
  /** Lets the site at `origin` (https://brand.com) send pixel events: at once, no restart of the redirector. */
  'pixel.allowOrigin': (args: { workspace?: string; origin: string }) => Promise<Result<PixelOrigins>>;
  /** Takes back a site allowed from this app (the deployment's stay). */
  'pixel.removeOrigin': (args: { workspace?: string; origin: string }) => Promise<Result<PixelOrigins>>;
}

/** The redirector's origin limit (redirector/src/store/settings.ts). */
const ALLOWED_MAX = 50;

/** `raw` as a site's origin (scheme, host, port), or null. */
export function siteOrigin(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 200 || !URL.canParse(raw.trim())) return null;
  const url = new URL(raw.trim());
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.origin === raw.trim().replace(/\/$/, '') ? url.origin : null;
}

const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The settings' origin fields, or null from a redirector older than them. */
function originsOf(s: RedirectorSettings): PixelOrigins | null {
  if (!Array.isArray(s.allowedOrigins) || !Array.isArray(s.allowedOriginsDeployment)) return null;
  const refused = (s.refusedOrigins ?? {}) as { origins?: unknown; other?: { count?: unknown } };
  return {
    allowed: strings(s.allowedOrigins),
    deployment: strings(s.allowedOriginsDeployment),
    refused: (Array.isArray(refused.origins) ? refused.origins : []).filter(
      (r): r is RefusedOrigin => typeof r?.origin === 'string' && typeof r.count === 'number' && typeof r.lastAt === 'number',
    ),
    otherRefused: typeof refused.other?.count === 'number' ? refused.other.count : 0,
  };
}

export function createPixelHandlers(ctx: CoreContext, deps: { redirector(ws: Workspace): Promise<RedirectorClient | null> }): PixelHandlers {
  const older = ctx.step({
    app: 'This redirector is older than this Revtrail: it takes the sites allowed to send pixel events only from its own settings. Deploy the current version to set them here.',
    cli: 'This redirector is older than this Revtrail: it takes the allowed origins only from its REVTRAIL_ALLOWED_ORIGINS setting. Deploy the current version.',
  });
  const failure = (e: unknown) => {
    if (!(e instanceof RedirectorError)) throw e;
    return err(e.kind === 'rejected' ? 'invalid_input' : e.kind === 'missing' ? 'not_found' : e.kind === 'unauthorized' ? 'unauthorized' : 'unavailable', e.message);
  };
  /** The workspace's redirector client and its current origins, or why not. */
  const current = async (ref: string | undefined): Promise<Result<{ client: RedirectorClient; origins: PixelOrigins }>> => {
    const found = ctx.resolve(ref);
    if (!found.ok) return found.error;
    const client = await deps.redirector(found.workspace);
    if (!client) return err('not_found', `Workspace "${found.workspace.name}" has no redirector yet: ${ctx.step({ app: 'connect one on the Set up screen', cli: 'run `revtrail connect redirector --url URL`' })}.`);
    try {
      const origins = originsOf(await client.settings());
      return origins ? ok({ client, origins }) : err('not_found', older);
    } catch (e) {
      return failure(e);
    }
  };
  const save = async (client: RedirectorClient, allowed: string[]): Promise<Result<PixelOrigins>> => {
    try {
      const origins = originsOf(await client.putSettings({ allowedOrigins: allowed }));
      return origins ? ok(origins) : err('not_found', older);
    } catch (e) {
      return failure(e);
    }
  };
  const bad = (raw: unknown) =>
    err('invalid_input', `${typeof raw === 'string' && raw.length <= 200 ? `"${raw}" is not a site's origin` : 'That is not a site\'s origin'}: give its scheme, host and port only, e.g. https://brand.com or http://localhost:3000.`);

  return {
    'pixel.origins': async ({ workspace }) => {
      const r = await current(workspace);
      return r.ok ? ok(r.value.origins) : r;
    },

    'pixel.allowOrigin': async ({ workspace, origin }) => {
      const o = siteOrigin(origin);
      if (!o) return bad(origin);
      const r = await current(workspace);
      if (!r.ok) return r;
      const { allowed, deployment } = r.value.origins;
      if (allowed.includes(o) || deployment.includes(o)) return ok(r.value.origins);
      if (allowed.length >= ALLOWED_MAX) return err('invalid_input', `At most ${ALLOWED_MAX} sites can be allowed from here: remove one you no longer use first.`);
      ctx.log.info({ origins: allowed.length + 1 }, 'pixel origin allowed');
      return save(r.value.client, [...allowed, o]);
    },

    'pixel.removeOrigin': async ({ workspace, origin }) => {
      const o = siteOrigin(origin);
      if (!o) return bad(origin);
      const r = await current(workspace);
      if (!r.ok) return r;
      if (!r.value.origins.allowed.includes(o)) return ok(r.value.origins);
      return save(r.value.client, r.value.origins.allowed.filter((x) => x !== o));
    },
  };
}
