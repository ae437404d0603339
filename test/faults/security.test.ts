/**
 * The private key never leaves the signer, and the handshake's nonces and signatures never leave
 * the facade: a whole session (handshake, calls, a server restart, re-authentication, a refused
 * key, errors) with an inspector collecting every inspection event and a logger at its most
 * verbose, and none of them appears in any of it, in any spelling.
 */
import { inspect } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { CircleWsClient, CircleWsManager, type CryptoService, derivePublicKey, generateKeypair, type Logger, nobleCrypto } from '../../src/index.js';
import { createCircleServer } from '../../src/server/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';
import { waitForStatus } from '../support/client.js';
import { expectNoSecretPiece } from '../support/secrets.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** JSON of anything, cycles cut, functions named: what an inspector could see of it. */
function serialise(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'function') return `[function ${v.name}]`;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
      if (v instanceof Error) return { ...v, name: v.name, message: v.message, stack: v.stack };
      if (v instanceof Map) return [...v.entries()];
      if (v instanceof Set) return [...v.values()];
    }
    return v;
  });
}

function spellings(privateKey: string): string[] {
  return [privateKey.toLowerCase(), privateKey.toUpperCase(), `0x${privateKey.toLowerCase()}`, `0X${privateKey.toUpperCase()}`];
}

/** Wraps a crypto service to remember every nonce it signed and every signature it made. */
function recording(inner: CryptoService): { crypto: CryptoService; nonces: string[]; signatures: string[] } {
  const nonces: string[] = [];
  const signatures: string[] = [];
  const crypto: CryptoService = {
    derivePublicKey: (k, o) => inner.derivePublicKey(k, o),
    signNonce: async (k, nonce) => {
      nonces.push(nonce);
      const signature = await inner.signNonce(k, nonce);
      signatures.push(signature);
      return signature;
    },
  };
  return { crypto, nonces, signatures };
}

/** A secret and the large pieces of it (a signature's r and s, a nonce's halves): none may show. */
function piecesOf(secret: string): string[] {
  const half = Math.floor(secret.length / 2);
  return [secret, secret.toUpperCase(), secret.slice(0, half), secret.slice(half)].filter((p) => p.length >= 16);
}

it('no private key in inspection events, logs, statuses, errors or results of a whole session', async () => {
  const circle = generateKeypair();
  let server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
  cleanup.push(() => server.close());
  const port = server.port;
  const url = server.urlFor(circle.publicKeyCompressed);
  const me = generateKeypair();
  const collected: unknown[] = [];
  const logger: Logger = {
    debug: (m, f) => collected.push(['debug', m, f]),
    info: (m, f) => collected.push(['info', m, f]),
    warn: (m, f) => collected.push(['warn', m, f]),
    error: (m, f) => collected.push(['error', m, f]),
  };
  const inspector = (event: InspectionEvent) => collected.push(serialise(event));

  // Given in the least usual spelling the builder accepts.
  const signing = recording(nobleCrypto);
  const client = CircleWsClient.builder(url)
    .withKeypair(`0x${me.privateKey.toUpperCase()}`)
    .withCrypto(signing.crypto)
    .withLogger(logger)
    .withInspect(inspector)
    .withKeepAlive({ intervalMs: 100, timeoutMs: 1_000 })
    .withReconnect({ initialDelayMs: 20, maxDelayMs: 100 })
    .build();
  cleanup.push(() => client.disconnect());
  client.on('status', (s, p) => collected.push(['status', s, p]));
  await client.connect();
  collected.push(await client.play('let x = 10; x * 2'), await client.whoami());
  collected.push(await client.play('1 / 0').catch((e: unknown) => e));
  await new Promise((r) => setTimeout(r, 250)); // a keep-alive probe or two
  await server.close();
  await waitForStatus(client, 'backoff');
  server = await createCircleServer({ circles: [circle.publicKeyCompressed], port });
  await waitForStatus(client, 'authenticated');
  collected.push(
    client.lastError,
    client.actor.getSnapshot().context,
    client.actor.getPersistedSnapshot(),
    inspect(client, { depth: 6, showHidden: true }),
  );
  await client.disconnect();

  // A refused key: its errors too.
  const other = generateKeypair();
  const lying = recording({ derivePublicKey: (k, o) => derivePublicKey(k, o), signNonce: (_k, n) => nobleCrypto.signNonce(other.privateKey, n) });
  const refused = CircleWsClient.builder(url).withKeypair(me.privateKey).withCrypto(lying.crypto).withLogger(logger).withInspect(inspector).build();
  cleanup.push(() => refused.disconnect());
  collected.push(await refused.connect().catch((e: unknown) => e), refused.lastError);
  // A malformed key's error names the problem, not the key.
  collected.push(await Promise.resolve().then(() => CircleWsClient.builder(url).withKeypair(`${me.privateKey}ab`)).catch((e: unknown) => e));

  const everything = serialise(collected);
  expect(everything.length).toBeGreaterThan(10_000);
  expect(everything).toContain('@xstate.actor');
  expect(everything).toContain(me.publicKey);
  for (const spelling of [...spellings(me.privateKey), ...spellings(other.privateKey)]) expect(everything).not.toContain(spelling);
  // Nor any piece of 8 characters or more, in any case (a key split or sliced into a message).
  for (const privateKey of [me.privateKey, other.privateKey]) expectNoSecretPiece(everything, privateKey);

  // The handshake's secrets: two sessions of the first client (before and after the restart) and
  // the refused one. Each nonce was signed and each signature was sent, yet none reached the
  // inspector, a log line, an error, the context or a snapshot.
  expect(signing.nonces.length).toBeGreaterThanOrEqual(2);
  expect(lying.nonces.length).toBeGreaterThanOrEqual(1);
  const secrets = [...signing.nonces, ...signing.signatures, ...lying.nonces, ...lying.signatures];
  expect(secrets.length).toBe(2 * (signing.nonces.length + lying.nonces.length));
  for (const secret of secrets) for (const piece of piecesOf(secret)) expect(everything).not.toContain(piece);
}, 30_000);

it('a manager: no private key in what its inspector, logger, statuses, reports or contexts hold, and the inspector can tell the circles apart', async () => {
  const circles = [generateKeypair(), generateKeypair()];
  let server = await createCircleServer({ circles: circles.map((c) => c.publicKeyCompressed) });
  cleanup.push(() => server.close());
  const port = server.port;
  const urls = circles.map((c) => server.urlFor(c.publicKeyCompressed));
  const unknown = server.urlFor(generateKeypair().publicKeyCompressed);
  const me = generateKeypair();
  const own = generateKeypair();
  const collected: unknown[] = [];
  const events: InspectionEvent[] = [];
  const logger: Logger = {
    debug: (m, f) => collected.push(['debug', m, f]),
    info: (m, f) => collected.push(['info', m, f]),
    warn: (m, f) => collected.push(['warn', m, f]),
    error: (m, f) => collected.push(['error', m, f]),
  };
  const manager = CircleWsManager.builder()
    .withKeypair(`0x${me.privateKey.toUpperCase()}`)
    .withClient((b) => b.withLogger(logger).withReconnect({ initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 }))
    .withInspect((event) => {
      events.push(event);
      collected.push(serialise(event));
    })
    .withCircle(urls)
    .withCircle(unknown, { keypair: own.privateKey })
    .build();
  cleanup.push(() => manager.disconnectAll());
  manager.on('status', (url, s, p) => collected.push(['status', url, s, p]));
  collected.push(await manager.connectAll({ timeoutMs: 10_000 }));
  collected.push(await manager.playAll('let x = 10; x * 2'));
  await server.close();
  await waitForStatus(manager.client(urls[0]!), 'backoff');
  server = await createCircleServer({ circles: circles.map((c) => c.publicKeyCompressed), port });
  for (const url of urls) await waitForStatus(manager.client(url), 'authenticated');
  collected.push(
    manager.status,
    manager.actor.getSnapshot().context,
    manager.actor.getPersistedSnapshot(),
    ...urls.map((url) => manager.client(url).actor.getSnapshot().context),
    inspect(manager, { depth: 6, showHidden: true }),
  );
  await manager.disconnectAll();

  const everything = serialise(collected);
  expect(everything).toContain(me.publicKey);
  for (const key of [me.privateKey, own.privateKey]) {
    for (const spelling of spellings(key)) expect(everything).not.toContain(spelling);
    expectNoSecretPiece(everything, key);
  }

  // One inspector sees the manager's actor and each circle's, and each client's snapshots carry its URL.
  const snapshots = events.filter((e) => e.type === '@xstate.snapshot') as Array<InspectionEvent & { snapshot: { context?: { url?: string; circles?: unknown } } }>;
  const managerIds = new Set(snapshots.filter((e) => e.snapshot.context?.circles !== undefined).map((e) => e.actorRef.sessionId));
  expect(managerIds.size).toBe(1);
  const byUrl = new Map<string, Set<string>>();
  for (const e of snapshots) {
    const url = e.snapshot.context?.url;
    if (url !== undefined) byUrl.set(url, (byUrl.get(url) ?? new Set()).add(e.actorRef.sessionId));
  }
  expect([...byUrl.keys()].sort()).toEqual([...urls, unknown].sort());
  // One actor per circle, and never the same actor for two circles.
  for (const ids of byUrl.values()) expect(ids.size).toBe(1);
  expect(new Set([...byUrl.values()].flatMap((ids) => [...ids])).size).toBe(3);
}, 30_000);

it('mid-handshake, the snapshots (children included) and persisted state hold neither the nonce nor the signature', async () => {
  const me = generateKeypair();
  const transport = new FakeTransport();
  const clock = new ManualClock();
  const events: string[] = [];
  let release: (() => void) | undefined;
  const signatures: string[] = [];
  // A signer that waits (a wallet prompt), so the machine can be looked at while `signing`.
  const slow: CryptoService = {
    derivePublicKey: (k, o) => derivePublicKey(k, o),
    signNonce: (k, n) =>
      new Promise<string>((resolve) => {
        release = () => {
          const signature = nobleCrypto.signNonce(k, n) as string;
          signatures.push(signature);
          resolve(signature);
        };
      }),
  };
  const client = CircleWsClient.builder('ws://fake/circle')
    .withKeypair(me.privateKey)
    .withCrypto(slow)
    .withTransport(transport.factory)
    .withClock(clock)
    .withInspect((event) => events.push(serialise(event)))
    .build();
  const ready = client.connect();
  const turn = () => new Promise((r) => setImmediate(r));
  transport.current.open();
  await turn();
  const nonce = 'nonce_1764496800000_5f2b9c0e7a1d';
  transport.current.reply('fetch_nonce', nonce);
  await turn();
  expect(client.status).toBe('signing');
  const whileSigning = [client.actor.getSnapshot(), client.actor.getPersistedSnapshot(), client.actor.getSnapshot().children];
  release?.();
  await turn();
  expect(client.status).toBe('authenticating');
  const whileAuthenticating = [client.actor.getSnapshot(), client.actor.getPersistedSnapshot(), client.actor.getSnapshot().children];
  // The signature did go out on the wire, to the server and nowhere else.
  const signature = signatures[0] as string;
  expect(transport.current.lastRequest('authenticate')?.params).toEqual({ pubkey: me.publicKey, signature });
  transport.current.reply('authenticate', true);
  await ready;

  const everything = serialise([whileSigning, whileAuthenticating, events]);
  // The inspector saw the handshake actors (their done events included)...
  expect(everything).toContain('xstate.done.actor.fetchNonce');
  expect(everything).toContain('xstate.done.actor.signNonce');
  // ...and none of their secrets.
  expect(everything).not.toContain(nonce);
  expect(everything).not.toContain(signature);
  expect(everything).not.toContain(signature.slice(0, 64));
  await client.disconnect();
  expect(clock.pending()).toEqual([]);
});
