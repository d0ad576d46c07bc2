import { describe, expect, it } from 'vitest';
import type { WorkspaceStatus } from '../core/api';
import type { ScheduleStatus } from '../transport/contract';
import { jobState } from './schedule-state';

const job = (over: Partial<ScheduleStatus>): ScheduleStatus => ({ job: 'stripe', label: 'Pull payments from Stripe', everyMs: 3_600_000, running: false, lastRunAt: 1, lastOkAt: null, nextRunAt: 2, lastError: null, failures: [], ...over });
const here = (id: string, name: string, connected: boolean) => ({ workspace: { id, name }, redirector: { connected }, stripe: { connected } }) as unknown as WorkspaceStatus;

describe("a scheduled job's state on one workspace's Sync screen", () => {
  // The Stripe job failed for Blog (rate limited); Shop synced fine; the sample has no Stripe at all.
  const failedForBlog = job({ lastError: 'Blog: Stripe kept answering "too many requests".', failures: [{ workspaceId: 'blog', message: 'Blog: Stripe kept answering "too many requests".' }] });

  it("shows a workspace its own failure, without its name in front", () => {
    expect(jobState(failedForBlog, here('blog', 'Blog', true))).toEqual({ text: 'Stripe kept answering "too many requests".', failed: true });
  });

  it("never shows another workspace's failure (the sample showed another workspace's rate error)", () => {
    expect(jobState(failedForBlog, here('shop', 'Shop', true))).toEqual({ text: 'ok', failed: false });
    expect(jobState(failedForBlog, here('sample', 'Sample shop (demo data)', false))).toEqual({ text: 'not connected here', failed: false });
  });

  it('shows a failure that was no workspace\'s to every workspace', () => {
    expect(jobState(job({ lastError: 'Something went wrong inside Revtrail.' }), here('shop', 'Shop', true))).toEqual({ text: 'Something went wrong inside Revtrail.', failed: true });
  });

  it('says running, and waiting before the first run', () => {
    expect(jobState(job({ running: true }), here('shop', 'Shop', true)).text).toBe('running…');
    expect(jobState(job({ lastRunAt: null }), here('shop', 'Shop', true)).text).toBe('waiting');
  });
});
