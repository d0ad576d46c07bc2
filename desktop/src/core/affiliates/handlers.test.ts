import { afterEach, describe, expect, it } from 'vitest';
import { t } from '../attribution/testing/facts';
import { affiliateWorld, value, type AffiliateWorld } from './testing';

let w: AffiliateWorld;
afterEach(() => w?.close());

describe('affiliate handlers', () => {
  it('checks partner input and names every problem', async () => {
    w = affiliateWorld(t('2026-01-01'));
    const none = await w.call('partners.add', { name: 'Jo', email: 'jo@example.com' });
    expect(!none.ok && none.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('Add a program first') });
    value(await w.call('programs.add', { name: 'A', rateBasisPoints: 1000 }));
    const bad = await w.call('partners.add', { id: '-bad id', name: '', email: 'nope', paypalEmail: 'x@', country: 'Germany', method: 'cash' as 'paypal', wise: { email: 'w@example.com', receiverType: 'ROBOT' as 'PERSON' } });
    expect(!bad.ok && bad.error.code).toBe('invalid_input');
    expect(!bad.ok && bad.error.message.split('; ')).toEqual([
      'id: 1 to 30 letters, digits, _ or -, starting with a letter or digit (the partner id its links carry)',
      'name: must not be empty',
      'email: not an email address',
      'paypalEmail: not an email address',
      'wise.receiverType: PERSON or INSTITUTION',
      'country: at most 2 characters',
      'method: one of paypal, wise, manual',
    ]);
    const unknown = await w.call('partners.add', { name: 'Jo', email: 'jo@example.com', iban: 'DE00' } as never);
    expect(!unknown.ok && unknown.error.message).toContain('iban: unknown field');
  });

  it('derives ids from names, refuses duplicates, picks the method from the details given', async () => {
    w = affiliateWorld(t('2026-01-01'));
    value(await w.call('programs.add', { name: 'A', rateBasisPoints: 1000 }));
    const jo = value(await w.call('partners.add', { name: "Jo's Blog!", email: 'jo@example.com', wise: { email: 'jo@example.com', currency: 'eur' } }));
    expect(jo).toMatchObject({ id: 'jo-s-blog', payoutMethod: 'wise', wise: { email: 'jo@example.com', name: null, receiverType: 'PERSON', currency: 'EUR' }, status: 'active' });
    const again = await w.call('partners.add', { name: "Jo's blog", email: 'jo2@example.com' });
    expect(!again.ok && again.error).toMatchObject({ code: 'conflict', message: 'A partner with id "jo-s-blog" exists already: give this one its own id.' });
    expect(value(await w.call('partners.add', { id: 'ann', name: 'Ann', email: 'ann@example.com', paypalEmail: 'ann@example.com' })).payoutMethod).toBe('paypal');
    expect(value(await w.call('partners.add', { id: 'bo', name: 'Bo', email: 'bo@example.com' })).payoutMethod).toBe('manual');
    // Accented names keep their letters (they became mu-ller-so-hne-gmbh and ukasz-z-o-c).
    expect(value(await w.call('partners.add', { name: 'Müller Söhne GmbH', email: 'm@example.com' })).id).toBe('muller-sohne-gmbh');
    expect(value(await w.call('partners.add', { name: 'Łukasz z o.o.', email: 'l@example.com' })).id).toBe('lukasz-z-o-o');
    expect(value(await w.call('programs.add', { name: 'Été Partenaires', rateBasisPoints: 1000 })).id).toBe('prg_ete-partenaires');
  });

  it('updates a partner and drops its override with null; asks which program when there are several', async () => {
    w = affiliateWorld(t('2026-01-01'));
    value(await w.call('programs.add', { name: 'A', rateBasisPoints: 1000 }));
    value(await w.call('partners.add', { id: 'ann', name: 'Ann', email: 'ann@example.com', override: { rateBasisPoints: 2500, duration: 'months', durationCount: 6 } }));
    expect(value(await w.call('partners.show', { partner: 'ann' })).terms).toMatchObject({ rate: { kind: 'percent', basisPoints: 2500 }, duration: { kind: 'months', count: 6 } });
    value(await w.call('programs.add', { name: 'B', flat: { USD: 500 } }));
    const ambiguous = await w.call('partners.add', { id: 'bo', name: 'Bo', email: 'bo@example.com' });
    expect(!ambiguous.ok && ambiguous.error.message).toBe('program: required, there are 2 programs (A, B).');
    const updated = value(await w.call('partners.update', { partner: 'ann', override: null, program: 'b', status: 'paused', paypalEmail: 'ann.pp@example.com' }));
    expect(updated).toMatchObject({ override: null, programId: 'prg_b', status: 'paused', paypalEmail: 'ann.pp@example.com', email: 'ann@example.com' });
    expect(value(await w.call('partners.list', {})).map((p) => [p.id, p.programId, p.override])).toEqual([['ann', 'prg_b', null]]);
    expect((await w.call('partners.update', { partner: 'nobody', status: 'paused' })).ok).toBe(false);
  });

  it('checks program, period, batch and format arguments', async () => {
    w = affiliateWorld(t('2026-01-01'));
    const bad = await w.call('programs.add', { name: 'A', rateBasisPoints: 20000, duration: 'months' });
    expect(!bad.ok && bad.error.message).toBe('rateBasisPoints: a whole number from 1 to 10000; durationCount: required with duration "months" (how many months)');
    value(await w.call('programs.add', { name: 'A', rateBasisPoints: 100 }));
    expect((await w.call('programs.add', { name: 'a', rateBasisPoints: 100 })).ok).toBe(false);
    expect((await w.call('payouts.preview', { period: '2026-3' })).ok).toBe(false);
    expect((await w.call('commissions.list', { state: 'lost' as 'paid' })).ok).toBe(false);
    const exp = await w.call('payouts.export', { batch: 'po_x', format: 'xls' as 'csv' });
    expect(!exp.ok && exp.error.message).toBe('format: one of paypal, wise, csv, statement-html, statement-pdf');
    const missing = await w.call('payouts.export', { batch: 'po_x', format: 'csv' });
    expect(!missing.ok && missing.error.code).toBe('not_found');
    expect((await w.call('payouts.markPaid', { batch: 'po_x', reference: '' })).ok).toBe(false);
    expect((await w.call('partners.list', { workspace: 'elsewhere' })).ok).toBe(false);
  });
});
