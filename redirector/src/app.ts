import rateLimit from '@fastify/rate-limit';
import type { AppContext } from './context';
import { baseApp, createContext, startContext, type AppDeps, type RevtrailApp } from './app-base';
import { registerCollectRoutes } from './routes/collect';
import { registerOptoutRoutes } from './routes/privacy';
import { registerPublicRoutes } from './routes/public';
import { registerSameOriginRoutes } from './routes/same-origin';
import { registerStripeWebhookRoute } from './routes/stripe-webhook';
import { registerSyncRoutes } from './routes/sync';
import { registerTelegramWebhookRoute } from './routes/telegram-webhook';
import { registerTrackRoutes } from './routes/track';
import { rateLimitKey } from './visitor';

export type { AppDeps, RevtrailApp } from './app-base';

/** The redirector: one Fastify app served locally, on Lambda and in tests. */
export async function buildApp(deps: AppDeps): Promise<RevtrailApp> {
  const ctx = createContext(deps);
  const app = await buildAppOn(ctx);
  startContext(ctx);
  return app;
}

/**
 * Every route on a context already made (and started): the Lambda builds this app on the first request its
 * redirect app does not serve (app-base.ts), on the context that one serves from.
 */
export async function buildAppOn(ctx: AppContext): Promise<RevtrailApp> {
  const app = await baseApp(ctx);
  await app.register(rateLimit, {
    global: false,
    keyGenerator: (req) => rateLimitKey(req.ip),
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      error: { code: 'rate_limited', message: `Too many requests: try again in ${Math.ceil(context.ttl / 1000)} s.` },
    }),
  });

  registerPublicRoutes(app, ctx);
  registerSameOriginRoutes(app, ctx);
  registerOptoutRoutes(app, ctx);
  registerCollectRoutes(app, ctx);
  registerSyncRoutes(app, ctx);
  registerTrackRoutes(app, ctx);
  registerStripeWebhookRoute(app, ctx);
  registerTelegramWebhookRoute(app, ctx);

  app.addHook('onClose', async () => {
    await ctx.recorder.flush();
    await ctx.stripeWebhook.counters.flush(1000);
    await ctx.refusedOrigins.flush(1000);
    await ctx.telegram.flush(1000);
  });
  return app;
}
