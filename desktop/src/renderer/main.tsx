import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { askFirst } from './first-reports';
import { createRpc, forgetAccessKey, httpTransport, takeAccessKey } from './rpc';
import { OpenPrintedAddress } from './screens/OpenPrintedAddress';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
const render = (node: ReactNode) => root.render(<StrictMode>{node}</StrictMode>);

if (window.api) {
  const rpc = createRpc(window.api, 'electron');
  askFirst(rpc, window.location.hash, window.localStorage);
  render(<App rpc={rpc} />);
} else {
  // Before the first render: the App routes on the fragment, which holds the key until this takes it.
  const token = takeAccessKey(window.location, window.history, window.sessionStorage);
  const refused = () => {
    forgetAccessKey(window.sessionStorage);
    render(<OpenPrintedAddress stale />);
  };
  if (token) {
    const rpc = createRpc(httpTransport({ token, onUnauthorized: refused }), 'browser');
    askFirst(rpc, window.location.hash, window.localStorage);
    render(<App rpc={rpc} />);
  } else render(<OpenPrintedAddress stale={false} />);
}
