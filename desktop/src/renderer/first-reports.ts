import { dayInZone } from '@revtrail/shared/attribution/days';
import type { Result } from '@revtrail/shared/result';
import type { Workspace } from '../core/workspaces/registry';
import type { DashboardReports } from '../core/attribution/reports';
import type { ShellInfo } from '../transport/contract';
import { ROUTES } from './app-context';
import { parseHash } from './hash-route';
import { readReportQuery } from './report-range';
import type { Rpc } from './rpc';

/** The workspace the page last showed (App.tsx keeps it there). */
export const SELECTED_KEY = 'revtrail.workspace';

type DashboardAnswer = Result<DashboardReports & { workspace: string }>;
let workspaces: Promise<Result<Workspace[]>> | null = null;
let info: Promise<Result<ShellInfo>> | null = null;
let dashboard: Promise<DashboardAnswer> | null = null;

/**
 * What the page asks for as it starts, before React has rendered anything: the workspace list and the shell's info
 * (what App asks first), then, when the address opens the dashboard with nothing chosen, the dashboard's reports for
 * the workspace last shown here (else the only one, which the core takes when none is named), beside the list
 * rather than after it. The core answers in order: the list first, the reports while the screen is drawn.
 */
export function askFirst(rpc: Rpc, hash: string, storage: Pick<Storage, 'getItem'>): void {
  workspaces = rpc.call('workspaces.list', {});
  info = rpc.call('shell.info', {});
  const location = parseHash(hash);
  const onDashboard = location.screen === 'dashboard' || !(ROUTES as readonly string[]).includes(location.screen);
  const query = readReportQuery(location.params);
  if (!onDashboard || query.choice !== null || query.filter !== null) return;
  const workspace = storage.getItem(SELECTED_KEY);
  dashboard = rpc.call('reports.dashboard', { ...(workspace === null ? {} : { workspace }), filter: null });
  whenIdle(warmDates);
}

/**
 * The page's first Intl.DateTimeFormat with a time zone costs ~20 ms (the zone data loaded, whichever zone; the next
 * ones cost nothing): made while the reports are computed, not after their answer, when the headings' day in the
 * workspace's zone needed it.
 */
function warmDates(): void {
  dayInZone(Date.now(), 'UTC');
}
const whenIdle = (f: () => void) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(() => f()) : setTimeout(f, 0));

/** The workspace list and the shell's info asked for at the start, each once; null after (ask again). */
export function takeFirstWorkspaces(): Promise<Result<Workspace[]>> | null {
  const asked = workspaces;
  workspaces = null;
  return asked;
}
export function takeFirstInfo(): Promise<Result<ShellInfo>> | null {
  const asked = info;
  info = null;
  return asked;
}

/**
 * The dashboard's reports asked for at the start, once, if they answered for `workspace` (the dashboard's first query,
 * nothing chosen); when they answered for another workspace or failed, `ask` is called instead. Null when none were asked.
 */
export function takeFirstDashboard(workspace: string, ask: () => Promise<DashboardAnswer>): Promise<DashboardAnswer> | null {
  const asked = dashboard;
  dashboard = null;
  return asked && asked.then((r) => (r.ok && r.value.workspace === workspace ? r : ask()));
}
