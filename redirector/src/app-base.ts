// The app's Fastify plumbing, shared by buildApp (app.ts: every route) and the redirect app (redirects and the
// domain's own pages): Fastify with the hooks, cookie and error handling every route relies on. The context
// both serve from is made in app-context.ts, without Fastify: the Lambda answers redirects without it
// (lambda-redirect.ts) and loads this module, in a chunk of its own, on the first other request.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import { SLUG_MAX_LENGTH } from '@revtrail/shared';
import type { AppContext } from './context';
import { sendError } from './http-errors';
import { errorAnswer } from './redirect';
import { registerPublicRoutes } from './routes/public';
import { registerTrackRoutes } from './routes/track';
import { vetForwarding } from './visitor';

export { createContext, startContext, type AppDeps } from './app-context';
export { OTHER_ROOT_PATHS, redirectAppServes } from './redirect';

export type RevtrailApp = FastifyInstance & { revtrail: AppContext };

/**
 * Fastify's schema compilers, refused. Given none, Fastify's constructor requires @fastify/ajv-compiler (ajv)
 * and @fastify/fast-json-stringify-compiler at every start, for JSON schemas no route here declares (each
 * validates its input by hand): ~45 ms of a Lambda cold start and ~280 KB of its bundle, which leaves them
 * out (sst.config.ts, REDIRECTOR_FUNCTION.nodejs.esbuild.external). A route with a schema fails the start.
 */
const NO_SCHEMA_COMPILERS = {
  buildValidator: (): never => {
    throw new Error('A route declares a JSON schema, but the redirector loads no schema compilers (app-base.ts, NO_SCHEMA_COMPILERS): validate its input in the handler, as the other routes do.');
  },
  buildSerializer: (): never => {
    throw new Error('A route declares a response schema, but the redirector loads no schema compilers (app-base.ts, NO_SCHEMA_COMPILERS): send plain objects, as the other routes do.');
  },
};

/** Fastify on `ctx` with what every route relies on: the forwarding vetted first, cookies, the error replies. No routes. */
export async function baseApp(ctx: AppContext): Promise<RevtrailApp> {
  const { config, log } = ctx;
  const app: FastifyInstance = Fastify({
    // ctx.log is AppDeps.log, a pino logger, typed down to what the routes call.
    loggerInstance: log as unknown as FastifyBaseLogger,
    // No per-request log lines: they would hold visitors' IPs and URLs, and cost time on every redirect.
    logController: new LogController({ disableRequestLogging: true }),
    // A child logger per request costs more than the rest of a redirect; errors are logged with context.
    childLoggerFactory: (logger) => logger,
    // One hop: the X-Forwarded-* headers vetForwarding (below) left, which only this deployment could have set.
    trustProxy: (_address: string, hop: number) => hop === 0,
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: SLUG_MAX_LENGTH + 1 },
    return503OnClosing: true,
    schemaController: { compilersFactory: NO_SCHEMA_COMPILERS },
  });
  app.decorate('revtrail', ctx);
  // First of all hooks, before any rate limit or route reads who the client is.
  app.addHook('onRequest', (req, _reply, done) => {
    vetForwarding(req.raw.headers, config);
    ctx.retention.refreshIfStale();
    done();
  });

  await app.register(cookie);

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    const answer = errorAnswer(error, ctx.log, req.routeOptions.url);
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, 'not_found', 'Nothing here.'));
  return app as unknown as RevtrailApp;
}

/**
 * The Lambda's cold-start app: redirects (every method on /:slug) and the domain's own pages (/p.js, /health,
 * /robots.txt, /). Each answers here as in buildApp's app; redirectAppServes says which requests it gets.
 */
export async function buildRedirectApp(ctx: AppContext): Promise<RevtrailApp> {
  const app = await baseApp(ctx);
  registerPublicRoutes(app, ctx);
  registerTrackRoutes(app, ctx);
  return app;
}
