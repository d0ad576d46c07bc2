/**
 * The life of a commission ledger line. A commission is pending through its holding period, then
 * approved (payable), then paid when its payout batch is marked paid. An open dispute holds it (released
 * back to pending when won); a refund or lost dispute that takes all of it back reverses it. A
 * self-referral is flagged at birth and can never be paid. A clawback (money taken back after payout) is
 * born approved: it is owed at once, netted against the next payout.
 *
 * The ledger stores these as transition rows; the money of a line never changes.
 */
export type LineKind = 'commission' | 'reversal' | 'clawback';
export type LineState = 'pending' | 'approved' | 'held' | 'paid' | 'reversed' | 'flagged';
export type LineEvent = 'approve' | 'hold' | 'release' | 'reverse' | 'pay';

export const LINE_STATES: readonly LineState[] = ['pending', 'approved', 'held', 'paid', 'reversed', 'flagged'];
export const LINE_KINDS: readonly LineKind[] = ['commission', 'reversal', 'clawback'];

const NEXT: Record<LineState, Partial<Record<LineEvent, LineState>>> = {
  pending: { approve: 'approved', hold: 'held', reverse: 'reversed' },
  approved: { hold: 'held', reverse: 'reversed', pay: 'paid' },
  held: { release: 'pending', reverse: 'reversed' },
  paid: {},
  reversed: {},
  flagged: {},
};

/** The state after `event`, or null when the event cannot happen in `state` (e.g. paying twice). */
export function nextState(state: LineState, event: LineEvent): LineState | null {
  return NEXT[state][event] ?? null;
}

/** Where a new line starts. Reversals have no state of their own: they follow the commission they reduce. */
export function initialState(kind: Exclude<LineKind, 'reversal'>, selfReferral: boolean): LineState {
  if (kind === 'clawback') return 'approved';
  return selfReferral ? 'flagged' : 'pending';
}

/** Folds a line's transitions from its initial state; null at the first event that could not happen. */
export function replayState(initial: LineState, events: readonly LineEvent[]): LineState | null {
  let state: LineState | null = initial;
  for (const e of events) {
    if (state === null) return null;
    state = nextState(state, e);
  }
  return state;
}

export const isLineState = (v: unknown): v is LineState => typeof v === 'string' && (LINE_STATES as readonly string[]).includes(v);
