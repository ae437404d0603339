/**
 * A signer that holds its key elsewhere (`withSigner`): its own signing deadline, and when the
 * client may ask it again. A wallet prompt waits for a person, so by default the client signs at
 * most once per `connect()` and never prompts again by itself. Fake transport and manual clock;
 * every expected value is written out.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, CircleWsClient, type CircleWsClientBuilder, createSigner, generateKeypair, type Signer, signNonce } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';
import { flush } from '../support/fake-session.js';

const key = generateKeypair();

/** A wallet-like signer: each `sign` is a prompt the test answers (or leaves open). */
function promptingSigner() {
  const prompts: Array<{ nonce: string; sign: () => void; decline: () => void }> = [];
  const signer: Signer = {
    publicKey: key.publicKey,
    sign: (nonce) =>
      new Promise<string>((resolve, reject) => {
        prompts.push({
          nonce,
          sign: () => resolve(signNonce(key.privateKey, nonce)),
          decline: () => reject(new AuthError('SIGNING_DECLINED', 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)')),
        });
      }),
  };
  return { signer, prompts };
}

function session(configure: (b: CircleWsClientBuilder) => CircleWsClientBuilder) {
  const clock = new ManualClock();
  const fake = new FakeTransport();
  const builder = CircleWsClient.builder('ws://fake/circle')
    .withTransport(fake.factory)
    .withClock(clock)
    .withRandom(() => 0.5)
    .withNetworkEvents(false)
    .withKeepAlive(false)
    .withReconnect({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0 });
  const client = configure(builder).build();
  const statuses: string[] = [];
  client.on('status', (s) => statuses.push(s));
  return { client, clock, fake, statuses };
}

type Session = ReturnType<typeof session>;

/** Opens the current fake socket and answers fetch_nonce: the client is then signing. */
async function upToSigning(s: Session, nonce: string): Promise<void> {
  s.fake.current.open();
  await flush();
  s.fake.current.reply('fetch_nonce', nonce);
  await flush();
}

/** Timers pending on the clock, in ms, smallest first. */
const timers = (clock: ManualClock): number[] => clock.pending().map((t) => t.ms).sort((a, b) => a - b);

describe('the signing deadline', () => {
  it('is 120 s for withSigner, then the usual timeout (retried with backoff)', async () => {
    const { signer, prompts } = promptingSigner();
    const s = session((b) => b.withSigner(signer).withRequestTimeout(600_000));
    s.client.connect().catch(() => {});
    await upToSigning(s, 'nonce_a');
    expect(s.client.status).toBe('signing');
    expect(prompts.map((p) => p.nonce)).toEqual(['nonce_a']);
    expect(timers(s.clock)).toEqual([120_000, 600_000]);
    s.clock.advance(119_999);
    await flush();
    expect(s.client.status).toBe('signing');
    s.clock.advance(1);
    await flush();
    expect(s.client.status).toBe('backoff');
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'TIMEOUT', message: 'signing the nonce took longer than 120000 ms' });
    // Nothing was signed in this connect(): the timeout is retried, and the next nonce prompts.
    s.clock.advance(100);
    await upToSigning(s, 'nonce_b');
    expect(prompts.map((p) => p.nonce)).toEqual(['nonce_a', 'nonce_b']);
    await s.client.disconnect();
  });

  it('withTimeouts({ signMs }) sets it; a key pair signs within authMs unless signMs is given', async () => {
    const { signer } = promptingSigner();
    const external = session((b) => b.withSigner(signer).withTimeouts({ signMs: 5_000 }).withReconnect(false));
    external.client.connect().catch(() => {});
    await upToSigning(external, 'nonce_a');
    expect(timers(external.clock)).toEqual([5_000, 30_000]);
    external.clock.advance(5_000);
    await flush();
    expect(external.client.lastError).toMatchObject({ name: 'TimeoutError', code: 'TIMEOUT', message: 'signing the nonce took longer than 5000 ms' });

    // A key held in-process signs at once; the timer is what matters here, so look while signing.
    const slowKey = (configure: (b: CircleWsClientBuilder) => CircleWsClientBuilder) =>
      session((b) => configure(b.withKeypair(key.privateKey).withCrypto({ derivePublicKey: () => key.publicKey, signNonce: () => new Promise<string>(() => {}) })));
    const keyed = slowKey((b) => b.withTimeouts({ authMs: 2_000 }));
    keyed.client.connect().catch(() => {});
    await upToSigning(keyed, 'nonce_a');
    expect(keyed.client.status).toBe('signing');
    expect(timers(keyed.clock)).toEqual([2_000, 30_000]);
    await keyed.client.disconnect();
    const keyedSignMs = slowKey((b) => b.withTimeouts({ authMs: 2_000, signMs: 3_000 }));
    keyedSignMs.client.connect().catch(() => {});
    await upToSigning(keyedSignMs, 'nonce_a');
    expect(timers(keyedSignMs.clock)).toEqual([3_000, 30_000]);
    await keyedSignMs.client.disconnect();
  });

  it('is checked like the other deadlines', () => {
    const b = CircleWsClient.builder('ws://fake/circle');
    expect(() => b.withTimeouts({ signMs: 0 })).toThrow('signMs must be a positive finite number of milliseconds, got 0');
    expect(() => b.withTimeouts({ signMs: Number.NaN })).toThrow('signMs must be a positive finite number of milliseconds, got NaN');
    expect(() => b.withTimeouts({ signMs: 2 ** 31 })).toThrow('signMs must be at most 2147483647 ms, got 2147483648');
  });
});

describe('re-prompting', () => {
  it("withSigner: a drop after signing stops in disconnected, keeping why, and only connect() prompts again", async () => {
    const { signer, prompts } = promptingSigner();
    const s = session((b) => b.withSigner(signer));
    const connected = s.client.connect();
    await upToSigning(s, 'nonce_a');
    prompts[0]!.sign();
    await flush();
    s.fake.current.reply('authenticate', true);
    await connected;
    const inFlight = s.client.call('later').catch((e: unknown) => e);
    s.fake.current.serverClose({ code: 1006, reason: '', error: 'read ECONNRESET' });
    await flush();
    expect(s.client.status).toBe('disconnected');
    expect(s.statuses).toEqual(['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated', 'disconnected']);
    expect(s.client.lastError).toMatchObject({ name: 'ConnectionLostError', code: 'CONNECTION_LOST', message: 'the connection closed with code 1006: read ECONNRESET' });
    // A call in flight at the drop is not re-sent; one made after it is told why at once, not
    // left waiting for a session that will not come by itself.
    expect(await inFlight).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    await expect(s.client.call('m')).rejects.toMatchObject({ code: 'CONNECTION_LOST', message: 'the connection closed with code 1006: read ECONNRESET' });
    // An hour later: no socket opened, no prompt.
    s.clock.advance(3_600_000);
    await flush();
    expect(s.fake.sockets).toHaveLength(1);
    expect(prompts).toHaveLength(1);
    expect(timers(s.clock)).toEqual([]);

    const again = s.client.connect();
    await upToSigning(s, 'nonce_b');
    expect(prompts.map((p) => p.nonce)).toEqual(['nonce_a', 'nonce_b']);
    prompts[1]!.sign();
    await flush();
    s.fake.current.reply('authenticate', true);
    await again;
    expect(s.client.lastError).toBeNull();
    await s.client.disconnect();
  });

  it('withSigner: failures before the first signature of a connect() are retried with backoff as usual', async () => {
    const { signer, prompts } = promptingSigner();
    const s = session((b) => b.withSigner(signer));
    const connected = s.client.connect();
    s.fake.current.serverClose({ code: 1006, reason: '', error: 'connect ECONNREFUSED' });
    await flush();
    expect(s.client.status).toBe('backoff');
    expect(timers(s.clock)).toEqual([100, 30_000]);
    s.clock.advance(100);
    await flush();
    s.fake.current.open();
    await flush();
    s.fake.current.replyError('fetch_nonce', -32603, 'database down');
    await flush();
    expect(s.client.status).toBe('backoff');
    s.clock.advance(200);
    await upToSigning(s, 'nonce_c');
    prompts[0]!.sign();
    await flush();
    s.fake.current.reply('authenticate', true);
    await connected;
    expect(prompts.map((p) => p.nonce)).toEqual(['nonce_c']);
    expect(s.fake.sockets).toHaveLength(3);
    await s.client.disconnect();
  });

  it('withSigner: a nonce that expires while the wallet waits is not signed again without connect()', async () => {
    const { signer, prompts } = promptingSigner();
    const s = session((b) => b.withSigner(signer));
    const connected = s.client.connect();
    await upToSigning(s, 'nonce_a');
    prompts[0]!.sign();
    await flush();
    s.fake.current.replyError('authenticate', -32002, 'Invalid Credentials: nonce expired');
    await expect(connected).rejects.toMatchObject({
      name: 'AuthError',
      code: 'NONCE_EXPIRED',
      message: 'the nonce expired before the signature reached the server: Invalid Credentials: nonce expired (JSON-RPC error -32002)',
    });
    expect(s.client.status).toBe('failed');
    expect(prompts).toHaveLength(1);
    expect(s.fake.current.requests().map((r) => r.method)).toEqual(['fetch_nonce', 'authenticate']);
    await s.client.disconnect();
  });

  it("withSigner(signer, { resign: 'automatic' }) and a key pair reconnect and sign again by themselves", async () => {
    const signed: string[] = [];
    const atOnce: Signer = { publicKey: key.publicKey, sign: async (nonce) => (signed.push(nonce), signNonce(key.privateKey, nonce)) };
    const recordingCrypto = { derivePublicKey: () => key.publicKey, signNonce: (k: string, nonce: string) => (signed.push(nonce), signNonce(k, nonce)) };
    for (const configure of [
      (b: CircleWsClientBuilder) => b.withSigner(atOnce, { resign: 'automatic' }),
      (b: CircleWsClientBuilder) => b.withKeypair(key.privateKey).withCrypto(recordingCrypto),
    ]) {
      signed.length = 0;
      const s = session(configure);
      const connected = s.client.connect();
      await upToSigning(s, 'nonce_a');
      s.fake.current.reply('authenticate', true);
      await connected;
      s.fake.current.serverClose({ code: 1006, reason: '' });
      await flush();
      expect(s.client.status).toBe('backoff');
      s.clock.advance(100);
      await upToSigning(s, 'nonce_b');
      s.fake.current.reply('authenticate', true);
      await flush();
      expect(s.client.status).toBe('authenticated');
      expect(signed).toEqual(['nonce_a', 'nonce_b']);
      expect(s.statuses).toEqual(['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated', 'backoff', 'connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated']);
      await s.client.disconnect();
    }
  });

  it('a declined signature is terminal: failed, one prompt, none after however long, until connect()', async () => {
    const { signer, prompts } = promptingSigner();
    const s = session((b) => b.withSigner(signer, { resign: 'automatic' }));
    const connected = s.client.connect();
    await upToSigning(s, 'nonce_a');
    prompts[0]!.decline();
    const error = await connected.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'SIGNING_DECLINED', message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)' });
    expect(s.client.status).toBe('failed');
    s.clock.advance(3_600_000);
    await flush();
    expect(prompts).toHaveLength(1);
    expect(s.fake.sockets).toHaveLength(1);
    s.client.connect().catch(() => {});
    await upToSigning(s, 'nonce_b');
    expect(prompts.map((p) => p.nonce)).toEqual(['nonce_a', 'nonce_b']);
    await s.client.disconnect();
  });

  it('says what is wrong with a resign option', () => {
    const { signer } = promptingSigner();
    const b = CircleWsClient.builder('ws://fake/circle');
    expect(() => b.withSigner(signer, { resign: 'sometimes' as never })).toThrow("withSigner's resign option must be 'onConnect' or 'automatic', got \"sometimes\"");
    expect(() => b.withSigner(signer, { resign: 1 as never })).toThrow("withSigner's resign option must be 'onConnect' or 'automatic', got number");
  });

  it("a signer the package made from a key (createSigner, as a manager shares one) keeps a key's behaviour through withSigner", async () => {
    const own = createSigner(key.privateKey, { derivePublicKey: () => key.publicKey, signNonce: () => new Promise<string>(() => {}) });
    const s = session((b) => b.withSigner(own).withTimeouts({ authMs: 2_000 }));
    expect(s.client.actor.getSnapshot().context.resign).toBe('automatic');
    s.client.connect().catch(() => {});
    await upToSigning(s, 'nonce_a');
    // Signing gets authMs, as with withKeypair, not the 120 s of an application's signer.
    expect(timers(s.clock)).toEqual([2_000, 30_000]);
    await s.client.disconnect();
    // An application's signer, even one wrapping the same key, is external.
    const wrapped: Signer = { publicKey: own.publicKey, sign: (nonce) => own.sign(nonce) };
    expect(session((b) => b.withSigner(wrapped)).client.actor.getSnapshot().context.resign).toBe('onConnect');
  });
});
