import { describe, expect, it } from 'vitest';
import { err, ok, type Result } from '@revtrail/shared/result';
import { askFirst, takeFirstDashboard, takeFirstInfo, takeFirstWorkspaces } from './first-reports';
import type { DashboardReports } from '../core/attribution/reports';
import type { Rpc } from './rpc';

/** A transport that answers each call with `answer(method, args)` and remembers the calls in order. */
function fakeRpc(answer: (method: string, args: unknown) => Result<unknown>) {
  const calls: [string, unknown][] = [];
  const rpc = { mode: 'browser', call: async (method: string, args: unknown) => (calls.push([method, args]), answer(method, args)), on: () => () => undefined } as unknown as Rpc;
  return { rpc, calls };
}
const storage = (selected: string | null) => ({ getItem: () => selected });
/** Only the workspace matters here: the rest of an answer is passed through untouched. */
const dashboardOf = (workspace: string) => ok({ workspace, summary: { marker: workspace } }) as unknown as Result<DashboardReports & { workspace: string }>;

describe('the calls the page makes as it starts', () => {
  it('asks for the workspace list and shell info first, then the dashboard of the workspace last shown, each taken once', async () => {
    const { rpc, calls } = fakeRpc((method, args) => (method === 'reports.dashboard' ? dashboardOf((args as { workspace: string }).workspace) : ok([])));
    askFirst(rpc, '', storage('ws_a'));
    expect(calls.map((c) => c[0])).toEqual(['workspaces.list', 'shell.info', 'reports.dashboard']);
    expect(calls[2]![1]).toEqual({ workspace: 'ws_a', filter: null });
    expect(await takeFirstWorkspaces()).toEqual(ok([]));
    expect(takeFirstWorkspaces()).toBeNull();
    expect(takeFirstInfo()).not.toBeNull();
    const again = async () => dashboardOf('asked again');
    expect(await takeFirstDashboard('ws_a', again)).toEqual(dashboardOf('ws_a'));
    expect(takeFirstDashboard('ws_a', again)).toBeNull();
  });

  it('names no workspace when none was shown here (the core takes the only one), and asks again when it answered for another or failed', async () => {
    const { rpc, calls } = fakeRpc((method) => (method === 'reports.dashboard' ? dashboardOf('ws_only') : ok([])));
    askFirst(rpc, '#/dashboard', storage(null));
    expect(calls[2]![1]).toEqual({ filter: null });
    expect(await takeFirstDashboard('ws_other', async () => dashboardOf('asked again'))).toEqual(dashboardOf('asked again'));
    const failing = fakeRpc((method) => (method === 'reports.dashboard' ? err('not_found', 'There are 2 workspaces: pick one in the list at the top.') : ok([])));
    askFirst(failing.rpc, '', storage(null));
    expect(await takeFirstDashboard('ws_b', async () => dashboardOf('ws_b'))).toEqual(dashboardOf('ws_b'));
  });

  it('asks for no dashboard on another screen, or with a range or a filter in the address (the screen asks for those)', () => {
    for (const hash of ['#/settings', '#/customers/cus_1', '#/dashboard?days=90&model=linear&currency=USD', '#/dashboard?by=channel&value=Newsletter']) {
      const { rpc, calls } = fakeRpc(() => ok([]));
      askFirst(rpc, hash, storage('ws_a'));
      expect(calls.map((c) => c[0]), hash).toEqual(['workspaces.list', 'shell.info']);
      expect(takeFirstDashboard('ws_a', async () => dashboardOf('ws_a')), hash).toBeNull();
    }
  });
});
