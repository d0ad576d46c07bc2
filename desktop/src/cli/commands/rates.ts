import type { Result } from '@revtrail/shared';
import type { Core } from '../../core/core';
import { when } from '../format';

/**
 * `revtrail rates refresh|status`. A refresh asked for by hand always downloads (force), unlike the
 * once-a-day automatic one: the user wants today's publication now.
 */
export async function ratesCommand(core: Core, sub: 'refresh' | 'status', workspace: string | undefined): Promise<Result<unknown> & { text?: string }> {
  if (sub === 'refresh') {
    const r = await core.call('fx.refresh', { workspace, force: true });
    if (!r.ok) return r;
    return { ...r, text: `ECB rates refreshed: newest day ${r.value.newestDay ?? 'none'}, ${r.value.written} rates added or changed.` };
  }
  const r = await core.call('fx.status', { workspace });
  if (!r.ok) return r;
  const s = r.value;
  const from = s.source === 'ecb' ? 'downloaded from the ECB' : s.source === 'snapshot' ? 'the snapshot bundled with Revtrail' : 'nowhere';
  const lines = [
    s.newestDay ? `ECB rates up to ${s.newestDay} (${from}): ${s.currencies} currencies besides EUR, ${s.days} publication days.` : 'No ECB rates loaded.',
    `Last refresh: ${when(s.lastSuccessAt)}; last attempt: ${when(s.lastAttemptAt)}${s.lastError ? `, failed: ${s.lastError}` : ''}.`,
  ];
  return { ...r, text: lines.join('\n') };
}
