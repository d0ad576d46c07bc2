import { allocate } from '../money';

/**
 * Attribution models: which touchpoints before a conversion get its credit, and how much.
 * - last_click (the default): the last touchpoint in the window takes everything;
 * - first_click: the first one does;
 * - linear: every touchpoint in the window takes an equal share;
 * - last_non_direct: the last touchpoint that is not Direct; when all are Direct, the last one.
 * No touchpoint in the window means Direct, for every model.
 */
export const ATTRIBUTION_MODELS = ['last_click', 'first_click', 'linear', 'last_non_direct'] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];
export const DEFAULT_MODEL: AttributionModel = 'last_click';
export const DEFAULT_WINDOW_DAYS = 30;

export const isAttributionModel = (v: unknown): v is AttributionModel => typeof v === 'string' && (ATTRIBUTION_MODELS as readonly string[]).includes(v);

/** What a model needs to know of a touchpoint. */
export interface ModelTouchpoint {
  id: string;
  at: number;
  direct: boolean;
}

export interface Credit<T> {
  touchpoint: T;
  /** Share of the conversion, in (0, 1]; the credits of one conversion sum to 1. */
  weight: number;
}

/** Order of touchpoints everywhere: by time, then by id, so equal times still give one answer. */
export const byTimeThenId = (a: ModelTouchpoint, b: ModelTouchpoint): number => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The touchpoints that may take credit for a conversion at `conversionAt`: in [conversionAt - windowMs, conversionAt], sorted. */
export function inWindow<T extends ModelTouchpoint>(touchpoints: readonly T[], conversionAt: number, windowMs: number): T[] {
  return touchpoints.filter((t) => t.at <= conversionAt && t.at >= conversionAt - windowMs).sort(byTimeThenId);
}

/**
 * The credits of one conversion under `model`, from the touchpoints already limited to the window (see
 * inWindow). Empty when there is none: the conversion is Direct.
 */
export function modelCredits<T extends ModelTouchpoint>(model: AttributionModel, windowed: readonly T[]): Credit<T>[] {
  if (windowed.length === 0) return [];
  switch (model) {
    case 'last_click':
      return [{ touchpoint: windowed.at(-1)!, weight: 1 }];
    case 'first_click':
      return [{ touchpoint: windowed[0]!, weight: 1 }];
    case 'linear':
      return windowed.map((touchpoint) => ({ touchpoint, weight: 1 / windowed.length }));
    case 'last_non_direct': {
      const found = windowed.findLast((t) => !t.direct);
      return [{ touchpoint: found ?? windowed.at(-1)!, weight: 1 }];
    }
  }
}

/** `inWindow` then `modelCredits`. */
export function attribute<T extends ModelTouchpoint>(model: AttributionModel, touchpoints: readonly T[], conversionAt: number, windowMs: number): Credit<T>[] {
  return modelCredits(model, inWindow(touchpoints, conversionAt, windowMs));
}

/**
 * Splits an amount over credits in integer minor units: the parts sum exactly to the amount, and the
 * remainder of an uneven split goes to the earliest touchpoints (credits are in time order). No credits
 * (Direct) gives the whole amount as one part.
 */
export function splitCredits(amountMinor: number, credits: readonly { weight: number }[]): number[] {
  if (credits.length === 0) return [amountMinor];
  return allocate(amountMinor, credits.map((c) => c.weight));
}
