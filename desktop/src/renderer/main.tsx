import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createRpc, forgetAccessKey, httpTransport, takeAccessKey } from './rpc';
import { OpenPrintedAddress } from './screens/OpenPrintedAddress';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
const render = (node: ReactNode) => root.render(<StrictMode>{node}</StrictMode>);

if (window.api) {
  render(<App rpc={createRpc(window.api, 'electron')} />);
} else {
  // Before the first render: the App routes on the fragment, which holds the key until this takes it.
  const token = takeAccessKey(window.location, window.history, window.sessionStorage);
  const refused = () => {
    forgetAccessKey(window.sessionStorage);
    render(<OpenPrintedAddress stale />);
  };
  render(token ? <App rpc={createRpc(httpTransport({ token, onUnauthorized: refused }), 'browser')} /> : <OpenPrintedAddress stale={false} />);
}
