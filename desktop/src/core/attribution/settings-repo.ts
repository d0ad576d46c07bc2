import { DEFAULT_CHANNEL_RULES, type AttributionModel, type ChannelRule } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

/** How a workspace attributes and reports (attribution_settings). */
export interface AttributionSettings {
  model: AttributionModel;
  windowDays: number;
  /** The reporting currency, ISO 4217 uppercase. */
  currency: string;
  /** IANA time zone whose days the reports use. */
  timeZone: string;
  channelRules: ChannelRule[];
  /** False while the rules are the shipped default (they follow later versions' defaults then). */
  customRules: boolean;
}

interface SettingsRow {
  model: AttributionModel;
  window_days: number;
  currency: string;
  time_zone: string;
  channel_rules_json: string | null;
}

const stmts = statementsPerDb((db: Db) => ({
  get: db.prepare<[], SettingsRow>(`SELECT model, window_days, currency, time_zone, channel_rules_json FROM attribution_settings WHERE id = 1`),
  set: db.prepare(
    `UPDATE attribution_settings SET model = @model, window_days = @windowDays, currency = @currency, time_zone = @timeZone,
       channel_rules_json = @rules, updated_at = @at WHERE id = 1`,
  ),
}));

export function getSettings(db: Db): AttributionSettings {
  const row = stmts(db).get.get()!;
  return {
    model: row.model,
    windowDays: row.window_days,
    currency: row.currency,
    timeZone: row.time_zone,
    channelRules: row.channel_rules_json === null ? [...DEFAULT_CHANNEL_RULES] : (JSON.parse(row.channel_rules_json) as ChannelRule[]),
    customRules: row.channel_rules_json !== null,
  };
}

/** Stores validated settings; `channelRules: null` goes back to the shipped default grouping. */
export function saveSettings(db: Db, s: Omit<AttributionSettings, 'channelRules' | 'customRules'> & { channelRules: ChannelRule[] | null }, at: number): void {
  stmts(db).set.run({
    model: s.model,
    windowDays: s.windowDays,
    currency: s.currency,
    timeZone: s.timeZone,
    rules: s.channelRules === null ? null : JSON.stringify(s.channelRules),
    at,
  });
}
