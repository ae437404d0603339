// A React page for the browser tests of useCircleWsStatus and useCircleWsManager, bundled by
// esbuild (jsx: 'automatic') from the package by name, as an application would import it.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CircleWsClient, CircleWsManager, generateKeypair } from 'circle-ws-client';
import { useCircleWsManager, useCircleWsStatus } from 'circle-ws-client/react';

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

let managerRenders = 0;

// Renders only what the hook returns: nothing else (no state of the page's own) re-renders it, so
// a change the hook misses stays visible to the test.
function Circles({ id, manager }) {
  const { state, circles, counts } = useCircleWsManager(manager);
  managerRenders += 1;
  return (
    <section id={id} data-state={state}>
      <p className="counts" data-authenticated={counts.authenticated} data-disconnected={counts.disconnected} data-circles={Object.keys(circles).length}>
        {counts.authenticated} of {Object.keys(circles).length} authenticated
      </p>
      <ul>
        {Object.entries(circles).map(([url, circle]) => (
          <li key={url} data-url={url} data-status={circle.status}>
            {url}: {circle.status}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function mountManager(urls) {
  const manager = CircleWsManager.builder().withKeypair(generateKeypair().privateKey).withCircle(urls).build();
  const root = createRoot(document.getElementById('root'));
  root.render(
    <StrictMode>
      <main>
        <h1>useCircleWsManager</h1>
        <Circles id="manager" manager={manager} />
        <Circles id="no-manager" manager={null} />
      </main>
    </StrictMode>,
  );
  window.managerTest = {
    renders: () => managerRenders,
    connectAll: () =>
      manager.connectAll({ timeoutMs: 30_000 }).then((report) => Object.values(report).map((result) => (result.ok ? 'ok' : result.error.message))),
    remove: (url) => manager.remove(url),
    disconnectAll: () => manager.disconnectAll(),
    unmount: () => root.unmount(),
  };
}
