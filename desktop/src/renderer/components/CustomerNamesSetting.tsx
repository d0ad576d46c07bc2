import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from './Notice';
import { useAction, useResult } from '../hooks';

/**
 * The workspace's allowance to show customers by their Stripe name or email (off by default). What Revtrail
 * keeps does not change either way: only a keyed hash of the email; names are read from Stripe when shown.
 */
export function CustomerNamesSetting() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings, reload] = useResult(() => rpc.call('privacy.settings', { workspace: ws.id }), [ws.id]);
  const save = useAction((on: boolean) => rpc.call('privacy.saveSettings', { workspace: ws.id, customerNames: on }));
  const toggle = async (on: boolean) => {
    if ((await save.act(on)).ok) reload();
  };
  return (
    <div className="card" role="group" aria-labelledby="customer-names-heading">
      <h2 id="customer-names-heading">Customer names</h2>
      <p className="muted">
        Revtrail keeps no customer names and no emails: only a keyed hash of each email, to join a payment to the sign-up before it. The screens name each customer by a
        short label made from it, such as “Customer 4F2A9C”, the same every time.
      </p>
      {settings.state === 'loading' && <Loading what="the setting" />}
      {settings.state === 'error' && <ErrorNote error={settings.error} />}
      {settings.state === 'ok' && (
        <label className="inline check">
          <input type="checkbox" name="customerNames" checked={settings.value.customerNames} disabled={save.busy} onChange={(e) => void toggle(e.target.checked)} />
          Show customers by their Stripe name or email
        </label>
      )}
      <p className="hint">
        When on, Revtrail asks Stripe for the name and email of the customers a screen shows, as it shows them, and keeps them in memory for up to ten minutes, never on
        this computer’s disk or in a log. Turn it on only if whoever sees these screens may see your customers’ names: you answer for that data.
      </p>
      <ErrorNote error={save.error} />
    </div>
  );
}
