export * from './terms';
export * from './commission';
export * from './states';
export * from './period';
export * from './payout-run';
export * from './exports';
