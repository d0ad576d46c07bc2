import type { EventRecord } from '../store/types';

/** Where events go when the store is slow or down, to be replayed into it later. */
export interface Spill {
  /** Resolves once the spill has the records; rejects when it does not (the caller keeps them elsewhere). */
  put(records: EventRecord[], opts?: { signal?: AbortSignal }): Promise<void>;
}
