/** Lambda events for the tests that call the handler as Lambda does (payload format 2.0, the shapes of AWS's docs' examples). */
import type { Context } from 'aws-lambda';
import { CHROME_UA } from './support';

export const LAMBDA_CONTEXT = { awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678', functionName: 'Redirector' } as Context;

export interface EventInput {
  method?: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  base64?: boolean;
  sourceIp?: string;
}

/** The query as Lambda gives it beside the raw one: repeated keys joined with commas; none for an empty query. */
export function queryStringParameters(query: string): Record<string, string> | undefined {
  if (!query) return undefined;
  const params = new URLSearchParams(query);
  return Object.fromEntries([...new Set(params.keys())].map((k) => [k, params.getAll(k).join(',')]));
}

/** An API Gateway HTTP API event, payload format 2.0 (AWS docs' example, with our values). */
export function httpApiEvent(over: EventInput) {
  const query = over.query ?? '';
  const params = queryStringParameters(query);
  const sourceIp = over.sourceIp ?? '198.51.100.23';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: over.path,
    rawQueryString: query,
    ...(over.cookies ? { cookies: over.cookies } : {}),
    headers: {
      accept: 'text/html,application/xhtml+xml',
      'accept-encoding': 'gzip, deflate, br',
      host: 'go.brand.com',
      'user-agent': CHROME_UA,
      'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e',
      'x-forwarded-for': sourceIp,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...over.headers,
    },
    ...(params ? { queryStringParameters: params } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'r3pmxmplak',
      domainName: 'go.brand.com',
      domainPrefix: 'go',
      http: { method: over.method ?? 'GET', path: over.path, protocol: 'HTTP/1.1', sourceIp, userAgent: CHROME_UA },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: '$default',
      stage: '$default',
      time: '24/Nov/2026:12:00:00 +0000',
      timeEpoch: 1795521600000,
    },
    ...(over.body !== undefined ? { body: over.base64 ? Buffer.from(over.body).toString('base64') : over.body } : {}),
    isBase64Encoded: over.base64 ?? false,
  };
}

/**
 * A Lambda function URL event (AWS docs' example shape: IAM authorizer null, pathParameters null). Its Host is
 * the function URL's domain unless `host` says otherwise (the Router's CloudFront may forward the viewer's).
 */
export function functionUrlEvent(over: EventInput & { host?: string }) {
  const e = httpApiEvent(over);
  const domainName = 'a1b2c3d4e5f6g7h8i9j0kxmpl.lambda-url.eu-west-1.on.aws';
  return {
    ...e,
    headers: { ...e.headers, host: over.host ?? domainName },
    requestContext: { ...e.requestContext, accountId: 'anonymous', apiId: 'a1b2c3d4e5f6g7h8i9j0kxmpl', domainName, domainPrefix: 'a1b2c3d4e5f6g7h8i9j0kxmpl', authentication: null, authorizer: null },
    pathParameters: null,
    stageVariables: null,
  };
}
