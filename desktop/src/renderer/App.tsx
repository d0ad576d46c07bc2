import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import type { AppError } from '@revtrail/shared/result';
import type { Workspace } from '../core/workspaces/registry';
import type { ShellInfo } from '../transport/contract';
import { AppContext, ROUTES, type AppState, type Route } from './app-context';
import { ErrorNote, Loading } from './components/Notice';
import { useHashLocation } from './hash-route';
import { SELECTED_KEY, takeFirstInfo, takeFirstWorkspaces } from './first-reports';
import type { Rpc } from './rpc';
import { Dashboard } from './screens/Dashboard';

// The dashboard is the first screen: it ships in the main bundle, the others load when opened.
const Links = lazy(() => import('./screens/Links').then((m) => ({ default: m.Links })));
const ModelComparison = lazy(() => import('./screens/ModelComparison').then((m) => ({ default: m.ModelComparison })));
const Customers = lazy(() => import('./screens/Customers').then((m) => ({ default: m.Customers })));
const Affiliates = lazy(() => import('./screens/Affiliates').then((m) => ({ default: m.Affiliates })));
const SyncStatus = lazy(() => import('./screens/SyncStatus').then((m) => ({ default: m.SyncStatus })));
const Privacy = lazy(() => import('./screens/Privacy').then((m) => ({ default: m.Privacy })));
const Settings = lazy(() => import('./screens/Settings').then((m) => ({ default: m.Settings })));
const Onboarding = lazy(() => import('./screens/Onboarding').then((m) => ({ default: m.Onboarding })));

const LABELS: Record<Route, string> = {
  dashboard: 'Dashboard',
  models: 'Models',
  links: 'Links',
  customers: 'Customers',
  affiliates: 'Affiliates',
  sync: 'Sync',
  privacy: 'Privacy',
  settings: 'Settings',
  onboarding: 'Set up',
};


const isRoute = (name: string): name is Route => (ROUTES as readonly string[]).includes(name);

export function App({ rpc }: { rpc: Rpc }) {
  const [info, setInfo] = useState<ShellInfo | null>(null);
  const [workspaces, setWorkspaces] = useState<Workspace[] | null>(null);
  const [selected, setSelected] = useState<string | null>(() => window.localStorage.getItem(SELECTED_KEY));
  const [location] = useHashLocation();
  const route: Route = isRoute(location.screen) ? location.screen : 'dashboard';
  const [error, setError] = useState<AppError | null>(null);

  const refreshWorkspaces = useCallback(async () => {
    // The first time, what main.tsx asked for as the page started.
    const r = await (takeFirstWorkspaces() ?? rpc.call('workspaces.list', {}));
    if (r.ok) setWorkspaces(r.value);
    else setError(r.error);
  }, [rpc]);

  const refreshInfo = useCallback(async () => {
    const r = await (takeFirstInfo() ?? rpc.call('shell.info', {}));
    if (r.ok) setInfo(r.value);
    else setError(r.error);
  }, [rpc]);

  useEffect(() => {
    void refreshWorkspaces();
    void refreshInfo();
  }, [refreshWorkspaces, refreshInfo]);

  const workspace = useMemo(() => workspaces?.find((w) => w.id === selected) ?? workspaces?.[0] ?? null, [workspaces, selected]);
  const navigate = useCallback((to: Route) => {
    window.location.hash = `#/${to}`;
  }, []);
  const selectWorkspace = useCallback((id: string) => {
    window.localStorage.setItem(SELECTED_KEY, id);
    setSelected(id);
  }, []);

  const state: AppState = { rpc, info, workspaces: workspaces ?? [], workspace, selectWorkspace, refreshWorkspaces, refreshInfo, navigate };

  if (workspaces === null) {
    return (
      <main className="page">
        <ErrorNote error={error} />
        {!error && <Loading what="Revtrail" />}
      </main>
    );
  }

  // Nothing set up yet: the only screen that makes sense is the one that sets it up.
  const shown: Route = workspace === null ? 'onboarding' : route;
  return (
    <AppContext.Provider value={state}>
      <div className="shell">
        <header className="topbar">
          <span className="brand">Revtrail</span>
          {workspace && (
            <nav aria-label="Screens">
              {ROUTES.filter((r) => r !== 'onboarding').map((r) => (
                <a key={r} href={`#/${r}`} aria-current={shown === r ? 'page' : undefined}>
                  {LABELS[r]}
                </a>
              ))}
            </nav>
          )}
          {workspaces.length > 0 && (
            <label className="workspace-picker">
              <span className="visually-hidden">Workspace</span>
              <select value={workspace?.id ?? ''} onChange={(e) => selectWorkspace(e.target.value)}>
                {workspaces.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          {workspace && (
            <a className="button small" href="#/onboarding">
              + Workspace / connections
            </a>
          )}
        </header>
        {workspace && info?.sampleWorkspaceIds.includes(workspace.id) && (
          <section aria-label="Sample workspace">
            <div className="sample-banner" role="note">
              Sample workspace: every click, customer and payment here is made up, to look around. Your own data goes in a workspace of your own.
            </div>
          </section>
        )}
        <main className="page" data-screen={shown}>
          <ErrorNote error={error} />
          <Suspense fallback={<Loading what={LABELS[shown]} />}>
            <Screen route={shown} key={`${shown}:${workspace?.id ?? ''}`} />
          </Suspense>
        </main>
        <footer className="footer muted">
          {info ? (info.mode === 'electron' ? 'Desktop app' : 'Browser mode: this page talks only to Revtrail on 127.0.0.1') : ''} · data in{' '}
          <code>{info?.dataDir ?? '…'}</code>
        </footer>
      </div>
    </AppContext.Provider>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route) {
    case 'dashboard':
      return <Dashboard />;
    case 'models':
      return <ModelComparison />;
    case 'links':
      return <Links />;
    case 'customers':
      return <Customers />;
    case 'affiliates':
      return <Affiliates />;
    case 'sync':
      return <SyncStatus />;
    case 'privacy':
      return <Privacy />;
    case 'settings':
      return <Settings />;
    case 'onboarding':
      return <Onboarding />;
  }
}
