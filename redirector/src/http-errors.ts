import type { FastifyReply } from 'fastify';
import type { AppErrorCode } from '@revtrail/shared';

/** The one place error codes become HTTP statuses. */
export const STATUS_OF: Record<AppErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
  // The desktop's codes; the redirector never answers them, the map is total so none is forgotten.
  database_too_new: 500,
  secret_unreadable: 500,
  key_revoked: 401,
  permission_missing: 403,
  unreachable: 503,
  read_only: 500,
};

export function sendError(reply: FastifyReply, code: AppErrorCode, message: string): FastifyReply {
  return reply.code(STATUS_OF[code]).type('application/json; charset=utf-8').send({ error: { code, message } });
}

/** The headers of sendPage's pages (beside its content type), for answers made without Fastify (redirect.ts). */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
} as const;

/** sendPage's HTML. */
export function pageHtml(title: string, text: string): string {
  return (
    `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title>` +
    `<style>body{font:16px system-ui,sans-serif;margin:20vh auto;max-width:32rem;padding:0 1rem;color:#333}</style>` +
    `<h1>${title}</h1><p>${text}</p></html>`
  );
}

/** A tiny HTML page for people who land on the tracking domain without a valid link. Reflects no input. */
export function sendPage(reply: FastifyReply, status: number, title: string, text: string): FastifyReply {
  return reply
    .code(status)
    .type(PAGE_HEADERS['content-type'])
    .header('cache-control', PAGE_HEADERS['cache-control'])
    .header('content-security-policy', PAGE_HEADERS['content-security-policy'])
    .send(pageHtml(title, text));
}
