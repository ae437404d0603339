// A React page for the browser test of useCircleWsStatus, bundled by esbuild (jsx: 'automatic')
// from the package by name, as an application would import it.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CircleWsClient, generateKeypair } from 'circle-ws-client';
import { useCircleWsStatus } from 'circle-ws-client/react';

let renders = 0;

function Status({ id, client }) {
  const { status, isConnected } = useCircleWsStatus(client);
  renders += 1;
  return (
    <p id={id} data-status={status} data-connected={String(isConnected)}>
      {status}
    </p>
  );
}

function App({ client }) {
  return (
    <main>
      <h1>useCircleWsStatus</h1>
      <Status id="status" client={client} />
      <Status id="no-client" client={null} />
    </main>
  );
}

export function mount(url) {
  const client = CircleWsClient.builder(url).withKeypair(generateKeypair().privateKey).build();
  const root = createRoot(document.getElementById('root'));
  root.render(
    <StrictMode>
      <App client={client} />
    </StrictMode>,
  );
  window.reactTest = {
    renders: () => renders,
    connect: () => client.connect({ timeoutMs: 30_000 }).then(() => client.status),
    disconnect: () => client.disconnect().then(() => client.status),
    unmount: () => root.unmount(),
  };
}
