import type { WorkspaceStatus } from '../core/api';
import type { ScheduleStatus } from '../transport/contract';

/** Whether a job works on this workspace: the syncs only where their source is connected. */
function jobApplies(job: string, here: WorkspaceStatus): boolean {
  if (job === 'redirector') return here.redirector.connected;
  if (job === 'stripe' || job === 'ecb') return here.stripe.connected;
  if (job === 'webhooks') return here.redirector.connected && here.stripe.connected;
  return true;
}

/**
 * A job's state for this workspace: its own failure (without the workspace's name the scheduler put in
 * front), a failure that was no workspace's, or how the last run went. Other workspaces' failures are
 * theirs: their screens show them.
 */
export function jobState(j: ScheduleStatus, here: WorkspaceStatus | null): { text: string; failed: boolean } {
  if (j.running) return { text: 'running…', failed: false };
  const mine = here ? j.failures.find((f) => f.workspaceId === here.workspace.id) : undefined;
  if (mine) return { text: mine.message.startsWith(`${here!.workspace.name}: `) ? mine.message.slice(here!.workspace.name.length + 2) : mine.message, failed: true };
  if (j.lastError && j.failures.length === 0) return { text: j.lastError, failed: true };
  if (here && !jobApplies(j.job, here)) return { text: 'not connected here', failed: false };
  return { text: j.lastRunAt === null ? 'waiting' : 'ok', failed: false };
}
