/**
 * The private key never leaves the signer: a whole session (handshake, calls, a server restart,
 * re-authentication, a refused key, errors) with an inspector collecting every inspection event
 * and a logger at its most verbose, and the key appears in none of it, in any spelling.
 */
import { inspect } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { CircleWsClient, type CryptoService, derivePublicKey, generateKeypair, type Logger, nobleCrypto } from '../../src/index.js';
import { createCircleServer } from '../../src/server/index.js';
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
  const client = CircleWsClient.builder(url)
    .withKeypair(`0x${me.privateKey.toUpperCase()}`)
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
  collected.push(client.lastError, client.actor.getSnapshot().context, inspect(client, { depth: 6, showHidden: true }));
  await client.disconnect();

  // A refused key: its errors too.
  const other = generateKeypair();
  const lying: CryptoService = { derivePublicKey: (k, o) => derivePublicKey(k, o), signNonce: (_k, n) => nobleCrypto.signNonce(other.privateKey, n) };
  const refused = CircleWsClient.builder(url).withKeypair(me.privateKey).withCrypto(lying).withLogger(logger).withInspect(inspector).build();
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
}, 30_000);
