/**
 * The client under an XState inspector (runs in Node, against the reference server): the
 * inspector gets the machine definition and every state of the session, and never the private
 * key, the nonce or the signature, with no sanitising at all. Then the `@statelyai/inspect` recipe
 * of docs/frontend.md: what it would send to a viewer holds the public key only shortened.
 */
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { AnyEventObject, InspectionEvent } from 'xstate';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { statusOf } from '../../machines/connection.js';
import { type CryptoService, generateKeypair, nobleCrypto } from '../../src/auth/crypto.js';
import { CircleWsClient } from '../../src/client/client.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';
import { expectNoSecretPiece } from '../support/secrets.js';

const circle = generateKeypair();
let server: CircleServer;
let clients: CircleWsClient[] = [];

beforeAll(async () => {
  server = await createCircleServer({ host: '127.0.0.1', port: 0, circles: [circle.publicKeyCompressed] });
});
afterEach(async () => {
  await Promise.all(clients.map((client) => client.disconnect()));
  clients = [];
});
afterAll(async () => {
  await server.close();
});

/**
 * JSON of anything, cycles and all: each object once, Maps and Sets as arrays, byte arrays as
 * hex (so a key held as bytes would show), errors with their message and stack.
 */
function serialise(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function') return `[function ${v.name}]`;
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[seen]';
    seen.add(v);
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (isBufferJson(v)) return Buffer.from(v.data).toString('hex');
    if (v instanceof Map) return [...v.entries()];
    if (v instanceof Set) return [...v];
    if (v instanceof Error) return { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause };
    return v;
  });
}

function isBufferJson(v: object): v is { type: 'Buffer'; data: number[] } {
  return (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);
}

/** Every spelling of a private key. */
function spellings(hex: string): string[] {
  const lower = hex.toLowerCase();
  const upper = hex.toUpperCase();
  return [lower, upper, `0x${lower}`, `0x${upper}`, `0X${upper}`];
}

/** Drops consecutive repeats. */
function collapse(values: string[]): string[] {
  return values.filter((value, i) => i === 0 || values[i - 1] !== value);
}

const sessionPath = ['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated'];

describe('inspection', { timeout: 30_000 }, () => {
  it('gets the definition and every state of the session, never the private key', async () => {
    const keys = generateKeypair();
    const events: InspectionEvent[] = [];
    const statuses: string[] = [];
    const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withKeypair(`0x${keys.privateKey.toUpperCase()}`)
      .withInspect((event) => events.push(event))
      .build();
    clients.push(client);
    client.on('status', (status) => statuses.push(status));

    // The definition arrives with the root actor, before anything runs.
    const root = events.find((event) => event.type === '@xstate.actor' && event.actorRef === client.actor);
    expect(root).toBeDefined();
    const logic = (root!.actorRef as unknown as { logic: { config: { id: string; states: Record<string, unknown> } } }).logic;
    expect(logic.config.id).toBe('circleWs');
    expect(Object.keys(logic.config.states)).toEqual(['disconnected', 'session', 'backoff', 'failed']);
    expect(root!.rootId).toBe(client.actor.sessionId);

    await client.connect({ timeoutMs: 15_000 });
    expect(await client.play('let x = 10; x * 2')).toBe('20');
    expect((await client.whoami()).authenticated).toBe(true);
    await client.disconnect();

    const rootSnapshots = events.filter(
      (event): event is Extract<InspectionEvent, { type: '@xstate.snapshot' }> =>
        event.type === '@xstate.snapshot' && event.actorRef === client.actor,
    );
    const valueOf = (event: { snapshot: unknown }): unknown => (event.snapshot as { value?: unknown }).value;
    const seen = collapse(rootSnapshots.map((event) => statusOf(valueOf(event) as Parameters<typeof statusOf>[0])));
    expect(seen).toEqual(['disconnected', ...sessionPath, 'disconnected']);
    expect(seen.slice(1)).toEqual(statuses); // every change the application saw, in order
    // The nested states too: keep-alive's idle state inside authenticated.
    expect(rootSnapshots.map((event) => JSON.stringify(valueOf(event)))).toContain(
      JSON.stringify({ session: { authenticated: 'idle' } }),
    );
    // The handshake's child actors were registered and ran.
    const children = events.filter((event) => event.type === '@xstate.actor').map((event) => (event.actorRef as { id?: string }).id);
    expect(children).toEqual(expect.arrayContaining(['fetchNonce', 'signNonce', 'authenticate']));
    // The socket is the session's entry and exit actions, shown as the inspector shows any action.
    const actions = events.flatMap((event) => (event.type === '@xstate.action' ? [event.action.type] : []));
    expect(actions).toEqual(expect.arrayContaining(['openSocket', 'releaseSocket']));
    expect(actions.indexOf('openSocket')).toBeLessThan(actions.indexOf('releaseSocket'));

    const dumps = events.map(serialise);
    // The search reaches deep: the public key (in the context) is found…
    expect(dumps.some((dump) => dump.includes(keys.publicKey))).toBe(true);
    // …the private key, in any spelling, never.
    for (const spelling of spellings(keys.privateKey)) {
      const leaks = dumps.filter((dump) => dump.includes(spelling));
      expect(leaks, `private key (${spelling.slice(0, 4)}…) in ${leaks.length} inspection events`).toEqual([]);
    }
    // …nor any piece of it of 8 characters or more, in any case.
    expectNoSecretPiece(dumps.join('\n'), keys.privateKey);
    // The context the inspector sees holds exactly the documented fields (README, "What the
    // actor's context shows"): a new field, secret or not, must be added here on purpose.
    const lastContext = (rootSnapshots.at(-1)?.snapshot as { context?: Record<string, unknown> } | undefined)?.context;
    expect(Object.keys(lastContext ?? {}).sort()).toEqual(
      [
        'attempt',
        'authTimeoutMs',
        'connectTimeoutMs',
        'instance',
        'keepAlive',
        'lastClose',
        'lastFailure',
        'nonceRetries',
        'publicKey',
        'reconnect',
        'resign',
        'retryDelayMs',
        'signTimeoutMs',
        'signedThisConnect',
        'stableAfterMs',
        'url',
      ],
    );
    expect(lastContext?.publicKey).toBe(keys.publicKey);
  });

  it('no nonce and no signature even unsanitised; the @statelyai/inspect recipe of docs/frontend.md shortens the public key', async () => {
    const keys = generateKeypair();
    const raw: InspectionEvent[] = [];
    const sent: StatelyInspectionEvent[] = [];
    // What the handshake produced, recorded where it is made (the inspection stream no longer carries it).
    const nonces: string[] = [];
    const signatures: string[] = [];
    const recording: CryptoService = {
      derivePublicKey: (k, o) => nobleCrypto.derivePublicKey(k, o),
      signNonce: async (k, nonce) => {
        const signature = await nobleCrypto.signNonce(k, nonce);
        nonces.push(nonce);
        signatures.push(signature);
        return signature;
      },
    };

    // --- the recipe (docs/frontend.md, "Inspecting"): ------------------------------------------
    const inspector = createInspector(
      { send: (event) => sent.push(event) }, // createBrowserInspector / createWebSocketInspector in real use
      {
        // XState's own events (xstate.init, xstate.done.actor.*…) carry the handshake actors' input,
        // which includes the public key: keep only their type.
        sanitizeEvent: (event: AnyEventObject) => (event.type.startsWith('xstate.') ? { type: event.type } : event),
        sanitizeContext: (context) =>
          context && typeof context.publicKey === 'string' ? { ...context, publicKey: `${context.publicKey.slice(0, 10)}…` } : context,
        // The handshake actors' snapshots carry `{ instance, publicKey }` as their input: send their status only.
        serialize: (event) =>
          (event.type === '@xstate.actor' || event.type === '@xstate.snapshot') && !('value' in (event.snapshot ?? {}))
            ? ({ ...event, snapshot: { status: event.snapshot.status } } as StatelyInspectionEvent)
            : event,
      },
    );
    // --------------------------------------------------------------------------------------------

    const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withKeypair(keys.privateKey)
      .withCrypto(recording)
      .withInspect({
        next: (event) => {
          raw.push(event);
          inspector.inspect.next?.(event);
        },
      })
      .build();
    clients.push(client);
    await client.connect({ timeoutMs: 15_000 });
    await client.disconnect();

    // The handshake ran (one nonce signed) and the unsanitised stream saw its steps, but not what they carried.
    expect(nonces).toHaveLength(1);
    const nonce = nonces[0] as string;
    const signature = signatures[0] as string;
    const rawDump = raw.map(serialise).join('\n');
    expect(rawDump).toContain('xstate.done.actor.signNonce');
    expect(rawDump.includes(nonce), 'nonce in the raw inspection stream').toBe(false);
    expect(rawDump.includes(signature), 'signature in the raw inspection stream').toBe(false);
    expect(rawDump.includes(keys.publicKey), 'the raw stream does hold the full public key').toBe(true);

    // The inspector converts events on a later turn: wait until it has sent them all.
    await expect.poll(() => sent.some((event) => event.type === '@xstate.snapshot' && JSON.stringify(event.snapshot).includes('"disconnected"')), { timeout: 10_000 }).toBe(true);
    const definition = sent.find((event) => event.type === '@xstate.actor' && event.name === 'circleWs');
    expect(definition?.type === '@xstate.actor' && definition.definition).toContain('"fetchingNonce"');
    const values = sent.filter((event) => event.type === '@xstate.snapshot').map((event) => JSON.stringify((event.snapshot as { value?: unknown }).value));
    for (const state of sessionPath) expect(values.some((value) => value?.includes(`"${state}"`)), state).toBe(true);

    const dump = JSON.stringify(sent);
    expect(dump.includes(nonce), 'nonce sent to the viewer').toBe(false);
    expect(dump.includes(signature.replace(/^0x/, '')), 'signature sent to the viewer').toBe(false);
    expect(dump.includes(keys.publicKey), 'full public key sent to the viewer').toBe(false);
    for (const spelling of spellings(keys.privateKey)) expect(dump.includes(spelling)).toBe(false);
  });
});
