/**
 * Figure 8's manager: many circles in one process, one identity (`CircleWsManager` from dist/).
 */
import { CircleWsManager, generateKeypair } from 'circle-ws-client';

/**
 * A manager of `urls` with one key pair; keep-alive and reconnection off, like for like with the
 * raw clients (which have neither) and with figure 5's keep-alive-off line.
 */
export function buildManager(privateKey, urls) {
  return CircleWsManager.builder()
    .withKeypair(privateKey)
    .withClient((builder) => builder.withKeepAlive(false).withReconnect(false))
    .withCircle(urls)
    .build();
}

/** How many circles are authenticated, or -1 while the manager is not `ready` as a whole. */
export function readyCount(manager) {
  const { state, counts } = manager.status;
  return state === 'ready' ? counts.authenticated : -1;
}

/** `count` fresh circle keys (compressed), for the reference server to serve. */
export function circleKeys(count) {
  return Array.from({ length: count }, () => generateKeypair().publicKeyCompressed);
}
