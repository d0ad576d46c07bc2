import { useState, type FormEvent } from 'react';
import type { StripePermissions, WorkspaceStatus } from '../../core/api';
import { useApp } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { plural } from '../format';
import { useAction, useResult } from '../hooks';
import { stripeKeyCreateUrl } from '../stripe-key-link';
import { SimulatePurchase } from './SimulatePurchase';

/** Create a workspace, connect its redirector (deployed, or the one on this machine), then Stripe. */
export function Onboarding() {
  const { workspaces, workspace } = useApp();
  const [adding, setAdding] = useState(workspaces.length === 0);
  return (
    <section className="onboarding">
      <h1>{workspaces.length === 0 ? 'Welcome to Revtrail' : 'Set up'}</h1>
      {workspaces.length === 0 && (
        <p className="lead">
          Revtrail shows which channel brings paying customers. Everything stays on this machine: links are counted by your own
          redirector, payments are read from Stripe with a read-only key.
        </p>
      )}
      {adding || !workspace ? (
        <>
          <CreateWorkspace onDone={() => setAdding(false)} />
          <SampleOffer />
        </>
      ) : (
        <>
          <p>
            Setting up <strong>{workspace.name}</strong>.{' '}
            <button type="button" className="link" onClick={() => setAdding(true)}>
              Add another workspace
            </button>
          </p>
          <Connections key={workspace.id} />
        </>
      )}
    </section>
  );
}

function CreateWorkspace({ onDone }: { onDone: () => void }) {
  const { rpc, refreshWorkspaces, selectWorkspace, navigate } = useApp();
  const [name, setName] = useState('');
  const add = useAction((n: string) => rpc.call('workspaces.add', { name: n }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await add.act(name);
    if (!r.ok) return;
    selectWorkspace(r.value.id);
    // The first workspace makes every screen available: stay here for its connections.
    navigate('onboarding');
    await refreshWorkspaces();
    onDone();
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)}>
      <h2>1. Create a workspace</h2>
      <p className="muted">One per business (or per Stripe account). Each has its own database and connections.</p>
      <label>
        Workspace name
        <input name="workspace" value={name} onChange={(e) => setName(e.target.value)} placeholder="My Shop" maxLength={80} required autoFocus />
      </label>
      <button type="submit" disabled={add.busy}>
        Create workspace
      </button>
      <ErrorNote error={add.error} />
    </form>
  );
}

/** Made-up data to look around before connecting anything real. */
function SampleOffer() {
  const { rpc, refreshWorkspaces, refreshInfo, selectWorkspace, navigate, info, workspaces } = useApp();
  const create = useAction(() => rpc.call('shell.createSample', {}));
  const existing = workspaces.find((w) => info?.sampleWorkspaceIds.includes(w.id));
  const open = async () => {
    if (existing) {
      selectWorkspace(existing.id);
      navigate('dashboard');
      return;
    }
    const r = await create.act();
    if (!r.ok) return;
    selectWorkspace(r.value.id);
    await Promise.all([refreshInfo(), refreshWorkspaces()]);
    navigate('dashboard');
  };
  return (
    <div className="card">
      <h2>Or look around first</h2>
      <p className="muted">A sample workspace with made-up clicks, customers, payments and an affiliate, clearly labelled as such.</p>
      <button type="button" className="secondary" disabled={create.busy} onClick={() => void open()}>
        {create.busy ? 'Making the sample…' : existing ? 'Open the sample workspace' : 'Open a sample workspace'}
      </button>
      <ErrorNote error={create.error} />
    </div>
  );
}

function Connections() {
  const { rpc, workspace } = useApp();
  const ws = workspace!;
  const [status, reload] = useResult(() => rpc.call('status.get', { workspace: ws.id }), [ws.id]);
  // A new key or address may make (or stop making) this workspace the fake Stripe's.
  const [stripeVersion, setStripeVersion] = useState(0);
  if (status.state === 'loading') return <Loading what="connections" />;
  if (status.state === 'error') return <ErrorNote error={status.error} />;
  const here = status.value.workspaces[0];
  if (!here) return null;
  return (
    <>
      <RedirectorStep status={here} onChange={reload} />
      <StripeStep
        status={here}
        onChange={() => {
          setStripeVersion((v) => v + 1);
          reload();
        }}
      />
      {here.stripe.connected && <SimulatePurchase version={stripeVersion} />}
      {here.redirector.connected && (
        <p>
          <a className="button" href="#/links">
            {here.stripe.connected ? 'Done: create your first link' : 'Skip Stripe for now: create your first link'}
          </a>
        </p>
      )}
    </>
  );
}

function RedirectorStep({ status, onChange }: { status: WorkspaceStatus; onChange: () => void }) {
  const { rpc, info, refreshWorkspaces } = useApp();
  const ws = status.workspace;
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [choice, setChoice] = useState<'local' | 'deployed'>(info?.localRedirector ? 'local' : 'deployed');
  // A connected redirector's address or token can change (a token rotated, a new domain): the same form again.
  const [changing, setChanging] = useState(false);
  const local = useAction(() => rpc.call('shell.useLocalRedirector', { workspace: ws.id }));
  const deployed = useAction(() => rpc.call('redirector.connect', { workspace: ws.id, url: url.trim(), token }));
  const done = async () => {
    local.clear();
    deployed.clear();
    setChanging(false);
    setToken('');
    await refreshWorkspaces();
    onChange();
  };

  if (status.redirector.connected && !changing) {
    return (
      <div className="card done" data-step="redirector">
        <h2>2. Redirector: connected</h2>
        <p>
          Links of <strong>{ws.name}</strong> go through <code>{ws.redirectorUrl}</code>.{' '}
          <button type="button" className="link" onClick={() => setChanging(true)}>
            Change address or sync token
          </button>
        </p>
      </div>
    );
  }
  return (
    <div className="card" data-step="redirector">
      <h2>{changing ? '2. Change the redirector' : '2. Connect a redirector'}</h2>
      <p className="muted">The redirector counts clicks on your links and serves the pixel that tells Revtrail who signed up.</p>
      <div className="choices" role="radiogroup" aria-label="Which redirector">
        <label>
          <input type="radio" name="redirector" checked={choice === 'local'} disabled={!info?.localRedirector} onChange={() => setChoice('local')} />
          The one on this machine{info?.localRedirector ? ` (${info.localRedirector.url})` : ''}: to try Revtrail in a minute; links work only
          here.
        </label>
        <label>
          <input type="radio" name="redirector" checked={choice === 'deployed'} onChange={() => setChoice('deployed')} />A deployed redirector (your
          own domain, e.g. https://go.brand.com)
        </label>
      </div>
      {info?.localRedirectorProblem && <p className="warning">The local redirector did not start: {info.localRedirectorProblem}</p>}
      {choice === 'local' ? (
        <>
          <button type="button" disabled={local.busy || !info?.localRedirector} onClick={() => void local.act().then((r) => (r.ok ? done() : undefined))}>
            Use the local redirector
          </button>
          <ErrorNote error={local.error} />
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void deployed.act().then((r) => (r.ok ? done() : undefined));
          }}
        >
          <label>
            Redirector address
            <input name="redirector-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://go.brand.com" required />
          </label>
          <label>
            Sync token (printed when you deployed it)
            <input name="redirector-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required />
          </label>
          <button type="submit" disabled={deployed.busy}>
            Connect
          </button>
          <ErrorNote error={deployed.error} />
        </form>
      )}
      {changing && (
        <p>
          <button type="button" className="secondary" onClick={() => void done()}>
            Keep {ws.redirectorUrl}
          </button>
        </p>
      )}
    </div>
  );
}

function StripeStep({ status, onChange }: { status: WorkspaceStatus; onChange: () => void }) {
  const { rpc, refreshWorkspaces } = useApp();
  const ws = status.workspace;
  const [key, setKey] = useState('');
  const [checks, setChecks] = useState<StripePermissions | null>(null);
  // Test mode: another Stripe API address (the fake Stripe). Closed, the key goes to Stripe itself.
  const [testMode, setTestMode] = useState(Boolean(ws.stripeApiBase));
  const [apiBase, setApiBase] = useState(ws.stripeApiBase ?? '');
  const connect = useAction(() => rpc.call('stripe.connect', { workspace: ws.id, key, apiBase: testMode && apiBase.trim() !== '' ? apiBase.trim() : null }));
  const recheck = useAction(() => rpc.call('stripe.permissions', { workspace: ws.id }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await connect.act();
    if (!r.ok) return;
    // What the key now has answers every earlier failure of this step: none stays above the checklist.
    recheck.clear();
    setKey('');
    setChecks({ mode: r.value.mode, checks: r.value.checks });
    setTestMode(Boolean(r.value.workspace.stripeApiBase));
    await refreshWorkspaces();
    onChange();
  };
  const check = async () => {
    const r = await recheck.act();
    if (!r.ok) return;
    connect.clear();
    setChecks(r.value);
  };

  return (
    <div className={`card${status.stripe.connected ? ' done' : ''}`} data-step="stripe">
      <h2>3. Stripe{status.stripe.connected ? ': connected' : ''}</h2>
      {!status.redirector.connected && <p className="muted">Connect the redirector first: payments are matched to clicks through its email-hash key.</p>}
      {status.stripe.connected && ws.stripeApiBase && (
        <p className="warning" data-note="test-mode">
          Test mode: payments are read from <code>{ws.stripeApiBase}</code>, not from Stripe.
        </p>
      )}
      <p>
        Revtrail reads payments with a <strong>restricted, read-only</strong> key; it never asks for your secret key.{' '}
        <a href={stripeKeyCreateUrl()} target="_blank" rel="noreferrer">
          Create the key in Stripe
        </a>{' '}
        (the page opens with the right Read permissions ticked), then paste it here.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Restricted key (rk_live_… or rk_test_…)
          <input
            name="stripe-key"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="rk_live_…"
            disabled={!status.redirector.connected}
            required
          />
        </label>
        <details className="test-mode" open={testMode} onToggle={(e) => setTestMode(e.currentTarget.open)}>
          <summary>Test mode: another Stripe API address</summary>
          <p className="muted">
            To try Revtrail without a Stripe account, start the fake Stripe that comes with Revtrail (the README says how), give its address
            here and paste the restricted key it prints. Its payments are made up; a workspace in test mode never reads your Stripe account.
          </p>
          <label>
            Stripe API address (https, or http on this computer)
            <input
              name="stripe-api-base"
              value={apiBase}
              onChange={(e) => setApiBase(e.target.value)}
              placeholder="http://127.0.0.1:12111"
              disabled={!status.redirector.connected}
            />
          </label>
        </details>
        <button type="submit" disabled={connect.busy || !status.redirector.connected}>
          {connect.busy ? 'Checking permissions…' : status.stripe.connected ? 'Replace key' : 'Connect Stripe'}
        </button>
        {status.stripe.connected && (
          <button type="button" className="secondary" disabled={recheck.busy} onClick={() => void check()}>
            Check permissions again
          </button>
        )}
      </form>
      <ErrorNote error={connect.error ?? recheck.error} />
      {checks && <PermissionChecklist permissions={checks} />}
    </div>
  );
}

function PermissionChecklist({ permissions }: { permissions: StripePermissions }) {
  const missing = permissions.checks.filter((c) => !c.ok);
  return (
    <div className="checklist">
      <p>
        Key in <strong>{permissions.mode}</strong> mode.{' '}
        {missing.length === 0 ? 'Every permission Revtrail reads is there.' : `${plural(missing.length, 'permission')} missing: tick ${missing.length === 1 ? 'it' : 'them'} (Read) on the key in Stripe, then check again.`}
      </p>
      <ul aria-label="Stripe permissions">
        {permissions.checks.map((c) => (
          <li key={c.label} className={c.ok ? 'ok' : 'missing'}>
            <span aria-hidden="true">{c.ok ? '✓' : '✗'}</span> {c.label} (Read){c.ok ? '' : `: missing ${c.permission}`}
          </li>
        ))}
      </ul>
    </div>
  );
}
