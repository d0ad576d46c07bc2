/**
 * The writes of /v1/webhook_endpoints (lists and retrieves go through routes.ts like every resource):
 * create (POST, answers the object with its `secret`, the only time Stripe shows it), update (POST /:id:
 * url, enabled_events, description, metadata, disabled) and delete (DELETE /:id). Parameters and object
 * follow Stripe's OpenAPI spec (`webhook_endpoint`, `deleted_webhook_endpoint`).
 *
 * Where this differs from Stripe: any URL with http or https is accepted, where Stripe refuses one that is
 * not publicly reachable (a 127.0.0.1 receiver is the point of this fake); an event type is checked for
 * its shape (`charge.refunded`) rather than against Stripe's list of types; there is no cap on the
 * number of endpoints (Stripe allows 16).
 */
import type Stripe from 'stripe';
import type { AccountData } from './account';
import { stripeErrors, type Reply } from './errors';
import { arrayParam, stringParam, type Query } from './query';
import type { FakeStripeState } from './state';

const CREATE_PARAMS = ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect', 'expand'];
const UPDATE_PARAMS = ['url', 'enabled_events', 'description', 'metadata', 'disabled', 'expand'];

/** '*' or a dotted event type such as `charge.refunded` or `charge.dispute.created`. */
export function isEventTypeSelector(value: string): boolean {
  return value === '*' || /^[a-z0-9_]+(?:\.[a-z0-9_]+)+$/.test(value);
}

/** An http(s) URL without credentials, or null. */
export function webhookUrl(value: string): URL | null {
  if (!URL.canParse(value)) return null;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' ? url : null;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reply: Reply };

export function handleWebhookEndpointWrite(
  state: FakeStripeState,
  account: AccountData,
  method: string,
  id: string | undefined,
  params: Query,
): Reply {
  const path = `/v1/webhook_endpoints${id === undefined ? '' : `/${id}`}`;
  if (method === 'POST' && id === undefined) return create(state, account, params);
  if (method === 'POST' && id !== undefined) return update(account, id, params);
  if (method === 'DELETE' && id !== undefined) return remove(state, account, id);
  return stripeErrors.unrecognizedUrl(method, path);
}

/** The fields create and update share, each validated; absent ones are undefined (metadata: merged). */
interface Fields {
  url?: string;
  events?: string[];
  description?: string | null;
  metadata: Stripe.Metadata;
}

function parseFields(q: Query, allowed: readonly string[], currentMetadata: Stripe.Metadata): Parsed<Fields> {
  const unknown = unknownParam(q, allowed);
  if (unknown) return { ok: false, reply: unknown };
  const url = parseUrl(q);
  if (!url.ok) return url;
  const events = parseEvents(q);
  if (!events.ok) return events;
  const description = parseDescription(q);
  if (!description.ok) return description;
  const metadata = parseMetadata(q, currentMetadata);
  if (!metadata.ok) return metadata;
  return { ok: true, value: { url: url.value, events: events.value, description: description.value, metadata: metadata.value } };
}

function create(state: FakeStripeState, account: AccountData, q: Query): Reply {
  const fields = parseFields(q, CREATE_PARAMS, {});
  if (!fields.ok) return fields.reply;
  const { url, events, description, metadata } = fields.value;
  if (url === undefined) return stripeErrors.missingParam('url');
  if (events === undefined) return stripeErrors.missingParam('enabled_events');
  const apiVersion = stringParam(q, 'api_version');
  if (apiVersion === null || (apiVersion !== undefined && !/^\d{4}-\d{2}-\d{2}(?:\.[a-z]+)?$/.test(apiVersion))) {
    return stripeErrors.invalidParam('api_version', `Invalid api_version: ${String(apiVersion)}`);
  }
  const connect = parseBoolean(q, 'connect');
  if (!connect.ok) return connect.reply;
  const { endpoint, secret } = state.addWebhookEndpoint({
    account: account === state.platform ? undefined : account.id,
    url,
    enabledEvents: events,
    description: description ?? null,
    apiVersion: apiVersion ?? null,
    metadata,
    connect: connect.value ?? false,
  });
  return { status: 200, body: { ...endpoint, secret } };
}

function update(account: AccountData, id: string, q: Query): Reply {
  const endpoint = account.webhookEndpoints.get(id);
  if (!endpoint) return stripeErrors.resourceMissing('webhook endpoint', id, 'id');
  const fields = parseFields(q, UPDATE_PARAMS, endpoint.metadata);
  if (!fields.ok) return fields.reply;
  const disabled = parseBoolean(q, 'disabled');
  if (!disabled.ok) return disabled.reply;
  // Validated in full before any field changes: a refused update changes nothing.
  const { url, events, description, metadata } = fields.value;
  if (url !== undefined) endpoint.url = url;
  if (events !== undefined) endpoint.enabled_events = events;
  if (description !== undefined) endpoint.description = description;
  endpoint.metadata = metadata;
  if (disabled.value !== undefined) endpoint.status = disabled.value ? 'disabled' : 'enabled';
  return { status: 200, body: { ...endpoint } };
}

function remove(state: FakeStripeState, account: AccountData, id: string): Reply {
  if (!state.deleteWebhookEndpoint(id, { account: account === state.platform ? undefined : account.id })) {
    return stripeErrors.resourceMissing('webhook endpoint', id, 'id');
  }
  return { status: 200, body: { id, object: 'webhook_endpoint', deleted: true } satisfies Stripe.DeletedWebhookEndpoint };
}

function unknownParam(q: Query, allowed: readonly string[]): Reply | null {
  const name = Object.keys(q).find((key) => !allowed.includes(key));
  return name === undefined ? null : stripeErrors.invalidParam(name, `Received unknown parameter: ${name}`);
}

function parseUrl(q: Query): Parsed<string | undefined> {
  const raw = stringParam(q, 'url');
  if (raw === undefined) return { ok: true, value: undefined };
  const url = raw === null ? null : webhookUrl(raw);
  if (!url) return { ok: false, reply: stripeErrors.invalidParam('url', `Invalid URL: ${String(raw)}. URLs must begin with http:// or https://.`) };
  return { ok: true, value: url.href };
}

function parseEvents(q: Query): Parsed<string[] | undefined> {
  if (q.enabled_events === undefined) return { ok: true, value: undefined };
  const events = arrayParam(q, 'enabled_events');
  if (events === null || events.length === 0) return { ok: false, reply: stripeErrors.invalidParam('enabled_events', 'Invalid array: enabled_events') };
  const bad = events.findIndex((e) => !isEventTypeSelector(e));
  if (bad !== -1) {
    return {
      ok: false,
      reply: stripeErrors.invalidParam(`enabled_events[${bad}]`, `Invalid enabled_events[${bad}]: '${events[bad]}' is not an event type such as charge.refunded, or '*'`),
    };
  }
  return { ok: true, value: [...new Set(events)] };
}

/** Stripe's Emptyable string: '' clears it (null); undefined when absent. */
function parseDescription(q: Query): Parsed<string | null | undefined> {
  const raw = stringParam(q, 'description');
  if (raw === null) return { ok: false, reply: stripeErrors.invalidParam('description', 'Invalid string: description') };
  if (raw !== undefined && raw.length > 5000) {
    return { ok: false, reply: stripeErrors.invalidParam('description', 'Invalid string: description must be at most 5000 characters') };
  }
  return { ok: true, value: raw === '' ? null : raw };
}

/** Stripe's metadata rules: merged into `current`; a key set to '' is removed, `metadata=''` clears all. */
function parseMetadata(q: Query, current: Stripe.Metadata): Parsed<Stripe.Metadata> {
  const raw = q.metadata;
  if (raw === undefined) return { ok: true, value: current };
  if (raw === '') return { ok: true, value: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reply: stripeErrors.invalidParam('metadata', 'Invalid object: metadata') };
  const next: Stripe.Metadata = { ...current };
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string' || key.length > 40 || value.length > 500) {
      return { ok: false, reply: stripeErrors.invalidParam(`metadata[${key}]`, 'Metadata keys take at most 40 characters and values at most 500.') };
    }
    if (value === '') delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > 50) return { ok: false, reply: stripeErrors.invalidParam('metadata', 'Metadata takes at most 50 keys.') };
  return { ok: true, value: next };
}

function parseBoolean(q: Query, name: string): Parsed<boolean | undefined> {
  const raw = stringParam(q, name);
  if (raw === undefined) return { ok: true, value: undefined };
  if (raw !== 'true' && raw !== 'false') return { ok: false, reply: stripeErrors.invalidParam(name, `Invalid boolean: ${String(raw)}`) };
  return { ok: true, value: raw === 'true' };
}
