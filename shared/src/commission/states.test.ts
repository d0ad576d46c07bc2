import { describe, expect, it } from 'vitest';
import { initialState, LINE_STATES, nextState, replayState, type LineEvent, type LineState } from './states';
import { seededRandom } from '../random';

const EVENTS: LineEvent[] = ['approve', 'hold', 'release', 'reverse', 'pay'];

describe('commission states', () => {
  it.each([
    ['pending', 'approve', 'approved'],
    ['pending', 'hold', 'held'],
    ['pending', 'pay', null],
    ['approved', 'pay', 'paid'],
    ['approved', 'hold', 'held'],
    ['held', 'release', 'pending'],
    ['held', 'reverse', 'reversed'],
    ['held', 'pay', null],
    ['paid', 'pay', null],
    ['paid', 'reverse', null],
    ['reversed', 'approve', null],
    ['flagged', 'approve', null],
    ['flagged', 'pay', null],
  ] as const)('%s --%s--> %s', (from, event, to) => {
    expect(nextState(from, event)).toBe(to);
  });

  it('starts commissions pending (flagged when self-referred) and clawbacks owed at once', () => {
    expect(initialState('commission', false)).toBe('pending');
    expect(initialState('commission', true)).toBe('flagged');
    expect(initialState('clawback', false)).toBe('approved');
  });

  it('replays a hold released and paid; refuses an impossible history', () => {
    expect(replayState('pending', ['approve', 'hold', 'release', 'approve', 'pay'])).toBe('paid');
    expect(replayState('pending', ['approve', 'pay', 'pay'])).toBeNull();
  });

  it('property: from any state, no sequence of events pays a line twice, pays a flagged one, or leaves a terminal state', () => {
    const rand = seededRandom(7);
    for (let run = 0; run < 5000; run++) {
      let state: LineState = LINE_STATES[Math.floor(rand() * LINE_STATES.length)]!;
      const start = state;
      let pays = 0;
      for (let i = 0; i < 12; i++) {
        const e = EVENTS[Math.floor(rand() * EVENTS.length)]!;
        const next = nextState(state, e);
        if (next === null) continue;
        if (state === 'paid' || state === 'reversed' || state === 'flagged') throw new Error(`left terminal ${state}`);
        if (next === 'paid') pays += 1;
        state = next;
      }
      expect(pays).toBeLessThanOrEqual(start === 'paid' || start === 'flagged' ? 0 : 1);
    }
  });
});
