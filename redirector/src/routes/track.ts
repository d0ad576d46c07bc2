import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context';
import { answerRedirect, type Answer } from '../redirect';

/** An answer of redirect.ts sent through Fastify: a redirect has no body (no content type), a page or error has one. */
function send(reply: FastifyReply, answer: Answer): void {
  reply.code(answer.status);
  for (const name in answer.headers) reply.header(name, answer.headers[name]);
  if (answer.cookies.length > 0) reply.header('set-cookie', answer.cookies.length === 1 ? answer.cookies[0] : answer.cookies);
  if (answer.body === null) reply.send();
  else reply.send(answer.body);
}

/** GET|HEAD /:slug — record the click, set the first-party cookie, redirect (redirect.ts answerRedirect). */
export function registerTrackRoutes(app: FastifyInstance, ctx: AppContext): void {
  // Not an async function: a link in memory is answered with no await but the journal's (or the store's)
  // write, and Fastify skips its promise handling of the handler. An error reaches the error handler as before.
  const handler = (req: FastifyRequest<{ Params: { slug: string } }>, reply: FastifyReply): void => {
    const rawUrl = req.raw.url ?? '';
    const q = rawUrl.indexOf('?');
    const answer = answerRedirect(ctx, {
      method: req.method,
      slug: req.params.slug,
      rawQuery: q === -1 ? '' : rawUrl.slice(q + 1),
      // The vetted headers (app-base.ts's first hook), as vetForwarding keeps its verdict on that object.
      headers: req.raw.headers,
      cookies: req.cookies,
      ip: req.ip,
      hostname: req.hostname,
      protocol: req.protocol,
    });
    if ('then' in answer) answer.then((a) => send(reply, a), (e: unknown) => reply.send(e));
    else send(reply, answer);
  };

  // Returns nothing: a reply handed back from a handler that is not async would be sent a second time.
  app.route<{ Params: { slug: string } }>({ method: ['GET', 'HEAD'], url: '/:slug', handler: (req, reply) => void handler(req, reply) });
  // Answered before any body is read, whatever its type.
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/:slug',
    onRequest: async (_req, reply) =>
      reply
        .code(405)
        .header('allow', 'GET, HEAD')
        .send({ error: { code: 'method_not_allowed', message: 'Tracking links answer GET and HEAD only.' } }),
    handler: async () => undefined,
  });
}
