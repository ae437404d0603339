/**
 * Figure 8's manager: many circles in one process, one identity (`CircleWsManager` from dist/).
 */
import { CircleWsManager, generateKeypair } from 'circle-ws-client';

/**
 * A manager of `urls` with one key pair; keep-alive and reconnection off, like for like with the
 * raw clients (which have neither) and with figure 5's keep-alive-off line. The connect and
 * handshake deadlines are raised from 10 s to 120 s, as the raw client has none: a thousand
 * handshakes at once queue behind the server's signature checks, and on a loaded 2-core machine
 * the last ones wait longer than 10 s (with the defaults, 433 of 1,000 circles failed with
 * "authenticate took longer than 10000 ms" in the first run).
 */
export function buildManager(privateKey, urls) {
  return CircleWsManager.builder()
    .withKeypair(privateKey)
    .withClient((builder) => builder.withKeepAlive(false).withReconnect(false).withTimeouts({ connectMs: 120_000, authMs: 120_000 }))
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
