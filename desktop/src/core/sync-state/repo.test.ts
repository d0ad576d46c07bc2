import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open';
import { listResourceStates, recordResourceFailure, recordResourceSuccess } from './repo';

describe('sync resource states', () => {
  it('keeps the last good pull time through a failure and clears the error on the next success', () => {
    const db = openDatabase(':memory:');
    recordResourceSuccess(db, 'stripe', 'charges', 1_000);
    recordResourceFailure(db, { source: 'stripe', resource: 'charges', code: 'unavailable', message: 'Stripe did not answer.' }, 2_000);
    recordResourceFailure(db, { source: 'stripe', resource: 'invoice_payments', code: 'not_found', message: 'not offered' }, 2_000);
    expect(listResourceStates(db, 'stripe')).toEqual([
      { source: 'stripe', resource: 'charges', lastPullAt: 1_000, lastAttemptAt: 2_000, error: { code: 'unavailable', message: 'Stripe did not answer.' } },
      { source: 'stripe', resource: 'invoice_payments', lastPullAt: null, lastAttemptAt: 2_000, error: { code: 'not_found', message: 'not offered' } },
    ]);
    recordResourceSuccess(db, 'stripe', 'charges', 3_000);
    expect(listResourceStates(db, 'stripe')[0]).toEqual({ source: 'stripe', resource: 'charges', lastPullAt: 3_000, lastAttemptAt: 3_000, error: null });
    expect(listResourceStates(db, 'redirector')).toEqual([]);
  });
});
