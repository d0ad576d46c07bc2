import type { EventRecord } from '../store/types';

/** Where events go when the store is slow or down, to be replayed into it later. */
export interface Spill {
  put(records: EventRecord[]): Promise<void>;
}
