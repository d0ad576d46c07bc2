import { createContext, useContext } from 'react';
import type { Workspace } from '../core/workspaces/registry';
import type { ShellInfo } from '../transport/contract';
import type { Rpc } from './rpc';

export interface AppState {
  rpc: Rpc;
  info: ShellInfo | null;
  workspaces: Workspace[];
  /** The workspace every screen works on. */
  workspace: Workspace | null;
  selectWorkspace(id: string): void;
  /** Reads the workspace list again (after a change that renames or connects one). */
  refreshWorkspaces(): Promise<void>;
  refreshInfo(): Promise<void>;
  navigate(route: Route): void;
}

export const ROUTES = ['dashboard', 'models', 'links', 'customers', 'affiliates', 'sync', 'privacy', 'settings', 'onboarding'] as const;
export type Route = (typeof ROUTES)[number];

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside <App>');
  return state;
}

/** The selected workspace, for screens that only render once there is one. */
export function useWorkspace(): Workspace {
  const { workspace } = useApp();
  if (!workspace) throw new Error('no workspace selected');
  return workspace;
}

/** Whether the selected workspace is the made-up sample: no redirector and no Stripe stand behind it. */
export function useIsSample(): boolean {
  const { info, workspace } = useApp();
  return workspace !== null && (info?.sampleWorkspaceIds.includes(workspace.id) ?? false);
}
