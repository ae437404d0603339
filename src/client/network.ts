/**
 * The browser's `online` and `offline` events, turned into the machine's `network.*` events.
 * Listened to only between `connect()` and `disconnect()`, so an idle client holds no listener.
 */
import type { CircleWsEvent } from '../../machines/connection.js';
import type { NetworkEvents } from './options.js';

/**
 * Starts listening; returns the function that stops.
 * @example const stop = watchNetwork(window, (event) => actor.send(event)); stop();
 */
export function watchNetwork(network: NetworkEvents, tell: (event: CircleWsEvent) => void): () => void {
  const online = (): void => tell({ type: 'network.online' });
  const offline = (): void => tell({ type: 'network.offline' });
  network.addEventListener('online', online);
  network.addEventListener('offline', offline);
  return () => {
    network.removeEventListener('online', online);
    network.removeEventListener('offline', offline);
  };
}
