/**
 * Stripe's error answers: `{ error: { type, message, code?, param?, doc_url? } }` with the HTTP status the
 * official client maps to its error classes (400/404 StripeInvalidRequestError, 401
 * StripeAuthenticationError, 403 StripePermissionError, 429 StripeRateLimitError, 5xx StripeAPIError; see
 * generateV1Error in node_modules/stripe/esm/Error.js). On the wire the type of a permission, auth or rate
 * limit error is still "invalid_request_error": the 2023 spec's api_errors.type enum has only api_error,
 * card_error, idempotency_error and invalid_request_error.
 */

export interface StripeErrorBody {
  error: {
    type: 'invalid_request_error' | 'api_error';
    message: string;
    code?: string;
    param?: string;
    doc_url?: string;
  };
}

/** What a route or a check answers: a status, a JSON body and extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function fail(status: number, error: StripeErrorBody['error'], headers?: Record<string, string>): Reply {
  return headers ? { status, body: { error }, headers } : { status, body: { error } };
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

/** Stripe shows a key as its prefix, stars, and the last four characters. */
export function maskKey(key: string): string {
  const prefix = /^(?:rk|sk|pk)_(?:test|live)_/.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  if (rest.length <= 4) return prefix + '*'.repeat(rest.length);
  return prefix + '*'.repeat(rest.length - 4) + rest.slice(-4);
}

export const stripeErrors = {
  missingKey: (): Reply =>
    fail(401, {
      type: 'invalid_request_error',
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    }),

  invalidKey: (key: string): Reply =>
    fail(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${maskKey(key)}` }),

  expiredKey: (key: string): Reply =>
    fail(401, {
      type: 'invalid_request_error',
      code: 'api_key_expired',
      doc_url: docUrl('api_key_expired'),
      message: `Expired API Key provided: ${maskKey(key)}`,
    }),

  missingPermission: (key: string, account: string, permission: string): Reply =>
    fail(403, {
      type: 'invalid_request_error',
      message: `The provided key '${maskKey(key)}' does not have the required permissions for this endpoint on account '${account}'. Having the '${permission}' permission would allow this request to continue.`,
    }),

  noAccessToAccount: (key: string, account: string): Reply =>
    fail(403, {
      type: 'invalid_request_error',
      code: 'account_invalid',
      doc_url: docUrl('account_invalid'),
      message: `The provided key '${maskKey(key)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
    }),

  // Stripe's answer to a path it does not serve: no code, no param, e.g. (devgpt-labs/devgpt#70)
  // {"error":{"message":"Unrecognized request URL (GET: /v1/payment_pages/cs_live_.../confirm). Please see
  // https://stripe.com/docs or we can help at https://support.stripe.com/.","type":"invalid_request_error"}}
  unrecognizedUrl: (method: string, path: string): Reply =>
    fail(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    }),

  /** Not Stripe's: this fake writes only webhook endpoints, and says so instead of pretending a write happened. */
  readOnly: (method: string, path: string): Reply =>
    fail(405, {
      type: 'invalid_request_error',
      message: `The fake Stripe server writes only webhook endpoints: ${method} ${path} is not implemented.`,
    }),

  missingParam: (param: string): Reply =>
    fail(400, {
      type: 'invalid_request_error',
      code: 'parameter_missing',
      doc_url: docUrl('parameter_missing'),
      param,
      message: `Missing required param: ${param}.`,
    }),

  resourceMissing: (noun: string, id: string, param: string, status = 404): Reply =>
    fail(status, {
      type: 'invalid_request_error',
      code: 'resource_missing',
      doc_url: docUrl('resource_missing'),
      param,
      message: `No such ${noun}: '${id}'`,
    }),

  invalidInteger: (param: string, value: string): Reply =>
    fail(400, {
      type: 'invalid_request_error',
      code: 'parameter_invalid_integer',
      doc_url: docUrl('parameter_invalid_integer'),
      param,
      message: `Invalid integer: ${value}`,
    }),

  integerOutOfRange: (param: string, bound: 'min' | 'max', limit: number, value: number): Reply =>
    fail(400, {
      type: 'invalid_request_error',
      param,
      message:
        bound === 'min'
          ? `This value must be greater than or equal to ${limit}.`
          : `This value must be less than or equal to ${limit} (it currently is '${value}').`,
    }),

  invalidParam: (param: string, message: string): Reply =>
    fail(400, { type: 'invalid_request_error', param, message }),

  notExpandable: (field: string, param: string): Reply =>
    fail(400, { type: 'invalid_request_error', param, message: `This property cannot be expanded (${field}).` }),

  rateLimited: (headers: Record<string, string>): Reply =>
    fail(
      429,
      {
        type: 'invalid_request_error',
        code: 'rate_limit',
        doc_url: docUrl('rate_limit'),
        message:
          'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
      },
      headers,
    ),

  server: (status: number, headers: Record<string, string>): Reply =>
    fail(
      status,
      {
        type: 'api_error',
        message:
          status === 503
            ? 'Stripe is temporarily unavailable. Please retry the request.'
            : 'An unknown error occurred. Please retry the request.',
      },
      headers,
    ),
};
