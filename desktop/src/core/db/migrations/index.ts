import type { Migration } from '../migrate';
import events from './0001-events';
import linkPushes from './0002-link-pushes';
import stripe from './0003-stripe';
import fx from './0004-fx';
import attribution from './0005-attribution';
import affiliates from './0006-affiliates';
import stripeEvents from './0007-stripe-events';
import syncResources from './0008-sync-resources';
import linkPushRefusals from './0009-link-push-refusals';
import privacy from './0010-privacy';
import anonymousClicks from './0011-anonymous-clicks';
import meta from './0012-meta';
import customerNames from './0013-customer-names';
import telegram from './0014-telegram';
import clickDaysBatchMembers from './0015-click-days-batch-members';

/**
 * Every migration, in order. They are modules rather than .sql files so that each bundle (electron-vite's,
 * the CLI's, the built core under plain Node) carries them: a file found beside a source file at run time is
 * not there once bundled.
 *
 * To add one: create NNNN-name.ts beside this file exporting the SQL as its default export, import it here and
 * append `{ version: N, name: 'name', sql }`. A migration once released is never edited (databases already at
 * its version would not see the change): write a new one. migrations.test.ts fails if a file here is missing
 * from this list or its number or name differ.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'events', sql: events },
  { version: 2, name: 'link-pushes', sql: linkPushes },
  { version: 3, name: 'stripe', sql: stripe },
  { version: 4, name: 'fx', sql: fx },
  { version: 5, name: 'attribution', sql: attribution },
  { version: 6, name: 'affiliates', sql: affiliates },
  { version: 7, name: 'stripe-events', sql: stripeEvents },
  { version: 8, name: 'sync-resources', sql: syncResources },
  { version: 9, name: 'link-push-refusals', sql: linkPushRefusals },
  { version: 10, name: 'privacy', sql: privacy },
  { version: 11, name: 'anonymous-clicks', sql: anonymousClicks },
  { version: 12, name: 'meta', sql: meta },
  { version: 13, name: 'customer-names', sql: customerNames },
  { version: 14, name: 'telegram', sql: telegram },
  { version: 15, name: 'click-days-batch-members', sql: clickDaysBatchMembers },
];
