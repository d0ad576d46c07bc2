import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context';
import { pickEncoding } from '../pixel/asset';
import { sendPage } from '../http-errors';

/** The tracking domain's own pages: the pixel, health, robots, the bare root. */
export function registerPublicRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/p.js', (req, reply) => {
    const { pixel } = ctx;
    reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .header('etag', pixel.etag)
      .header('vary', 'Accept-Encoding')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff');
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === pixel.etag || tag.trim() === '*')) {
      return reply.code(304).send();
    }
    const encoding = pickEncoding(req.headers['accept-encoding']);
    if (encoding === 'br') return reply.header('content-encoding', 'br').send(pixel.brotli);
    if (encoding === 'gzip') return reply.header('content-encoding', 'gzip').send(pixel.gzip);
    return reply.send(pixel.body);
  });

  // 200 even when degraded: redirects still work then, and a load balancer reading 503 as down would stop
  // them too. The body says what is wrong; monitors alert on `status`, the sync API's /status has the counts.
  app.get('/health', async (_req, reply) => {
    const health = ctx.recorder.health();
    const j = ctx.recorder.journal;
    const journal = j && { buffered: j.buffered, dropped: j.dropped, writeFailures: j.writeFailures, queued: j.queued, quarantined: j.quarantined, lost: j.lost };
    return reply.header('cache-control', 'no-store').send({ ...health, ...(journal ? { journal } : {}) });
  });

  // A tracking domain has nothing to index; crawlers that follow links are still redirected (and marked).
  app.get('/robots.txt', (_req, reply) => reply.type('text/plain; charset=utf-8').send('User-agent: *\nDisallow: /\n'));

  app.get('/', (_req, reply) =>
    ctx.config.fallbackUrl
      ? reply.code(302).header('location', ctx.config.fallbackUrl).send()
      : sendPage(reply, 200, 'Revtrail', 'This domain serves tracking links.'),
  );
}
