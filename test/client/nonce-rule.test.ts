/**
 * The nonce rule on its own (what is signed and what is refused, and how the refusal reads) and
 * through the facade with the fake transport (a refused nonce sends nothing and stops the client).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkNonce, compileNonceRule, defaultNonceRule, maxNonceLength } from '../../src/auth/nonce-rule.js';
import { AuthError, CircleWsClient, type CryptoService, derivePublicKey, generateKeypair, InvalidArgumentError, nobleCrypto } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';

const rule = compileNonceRule();
const refusal = (nonce: string, r = rule): AuthError | undefined => {
  try {
    checkNonce(nonce, r);
    return undefined;
  } catch (error) {
    return error as AuthError;
  }
};

const nonceChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:';

describe('the default nonce rule', () => {
  it('is the protocol shape: at most 256 characters from A-Z a-z 0-9 _ - . :', () => {
    expect(defaultNonceRule.maxLength).toBe(256);
    // The reference server's 64 hex characters and the hero lineage's nonce_<millis>_<hex>.
    for (const nonce of ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'nonce_1764496800000_5f2b9c0e', 'a', 'A-b_c.d:9']) {
      expect(refusal(nonce), nonce).toBeUndefined();
    }
  });

  it('signs any string of 1–256 protocol characters (property)', () => {
    const char = fc.constantFrom(...nonceChars.split(''));
    fc.assert(fc.property(fc.array(char, { minLength: 1, maxLength: 256 }), (chars) => refusal(chars.join('')) === undefined));
  });

  it('refuses any string with a character outside the set, saying where, never repeating it (property)', () => {
    const inside = fc.array(fc.constantFrom(...nonceChars.split('')), { maxLength: 100 }).map((c) => c.join(''));
    const outside = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((c) => !nonceChars.includes(c[0] as string));
    fc.assert(
      fc.property(inside, outside, inside, (before, odd, after) => {
        const nonce = `${before}${odd}${after}`;
        const error = refusal(nonce);
        if (!(error instanceof AuthError) || error.code !== 'NONCE_REJECTED') return false;
        const code = (odd.codePointAt(0) as number) > 0xffff ? (odd.charCodeAt(0) as number) : (odd.codePointAt(0) as number);
        const where = `character ${before.length + 1} is U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
        return error.message.includes(where) && (nonce.length < 12 || !error.message.includes(nonce));
      }),
    );
  });

  it('refuses the empty string, 257 characters, and text with spaces, line breaks or JSON', () => {
    expect(refusal('')?.message).toBe('the server sent an empty nonce; it was not signed');
    expect(refusal('a'.repeat(256))).toBeUndefined();
    expect(refusal('a'.repeat(257))?.message).toBe('the server sent a nonce of 257 characters, more than the 256 this client signs; it was not signed');
    expect(refusal('sign in\nnow')?.code).toBe('NONCE_REJECTED');
    expect(refusal('{"to":"0xabc"}')?.code).toBe('NONCE_REJECTED');
    expect(refusal('abc\u0000')?.message).toContain('character 4 is U+0000');
  });

  it('checks the length before the pattern, so a huge nonce costs no regular-expression work', () => {
    let tested = 0;
    const spy = compileNonceRule({ pattern: /a+/ });
    const counting = { ...spy, whole: { test: () => ++tested > 0 } as unknown as RegExp };
    expect(refusal('a'.repeat(10_000_000), counting)?.code).toBe('NONCE_REJECTED');
    expect(tested).toBe(0);
  });
});

describe('compileNonceRule / withNonceRule', () => {
  it('anchors the pattern: it must match the whole nonce, whatever its flags', () => {
    expect(refusal('abc def', compileNonceRule({ pattern: /[a-z]+/ }))?.code).toBe('NONCE_REJECTED');
    expect(refusal('abc\ndef', compileNonceRule({ pattern: /^[a-z]+$/m }))?.code).toBe('NONCE_REJECTED');
    expect(refusal('abc|x', compileNonceRule({ pattern: /abc|x/ }))?.code).toBe('NONCE_REJECTED');
    expect(refusal('ABC', compileNonceRule({ pattern: /[a-z]+/i }))).toBeUndefined();
    // `g` would make test() alternate through lastIndex; it is dropped.
    const global = compileNonceRule({ pattern: /[a-z]+/g });
    expect([refusal('abc', global), refusal('abc', global), refusal('abc', global)]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps the default for a field left out', () => {
    const longer = compileNonceRule({ maxLength: 1024 });
    expect(refusal('a'.repeat(1024), longer)).toBeUndefined();
    expect(refusal('a b', longer)?.code).toBe('NONCE_REJECTED');
    const base64 = compileNonceRule({ pattern: /[A-Za-z0-9+/=]+/ });
    expect(refusal('q83vEjRWeJA=', base64)).toBeUndefined();
    expect(refusal(`${'a'.repeat(256)}=`, base64)?.message).toContain('257 characters');
    // A custom pattern is named, and no character of the default set is blamed.
    expect(refusal('q83v EjRWeJA=', base64)?.message).toBe(
      'the server sent a nonce that does not match the nonce rule [A-Za-z0-9+/=]+; it was not signed',
    );
  });

  it.each([
    [{ maxLength: 0 }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 0'],
    [{ maxLength: 1.5 }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 1.5'],
    [{ maxLength: maxNonceLength + 1 }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 65537'],
    [{ maxLength: Number.POSITIVE_INFINITY }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got Infinity'],
    [{ maxLength: '256' }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 256'],
    [{ pattern: '[a-z]+' }, 'nonceRule.pattern must be a RegExp (matched against the whole nonce)'],
    [null, 'withNonceRule takes { maxLength?, pattern? }'],
  ])('withNonceRule(%j) throws InvalidArgumentError', (bad, message) => {
    const builder = CircleWsClient.builder('ws://127.0.0.1:1/02aa');
    expect(() => builder.withNonceRule(bad as never)).toThrow(new InvalidArgumentError(message));
  });
});

describe('through the facade', () => {
  const me = generateKeypair();

  function setup(configure = (b: ReturnType<typeof CircleWsClient.builder>) => b) {
    const transport = new FakeTransport();
    const clock = new ManualClock();
    const signed: string[] = [];
    const crypto: CryptoService = {
      derivePublicKey: (k, o) => derivePublicKey(k, o),
      signNonce: (k, n) => {
        signed.push(n);
        return nobleCrypto.signNonce(k, n);
      },
    };
    const client = configure(
      CircleWsClient.builder('ws://fake/circle').withKeypair(me.privateKey).withCrypto(crypto).withTransport(transport.factory).withClock(clock),
    ).build();
    return { transport, clock, client, signed };
  }
  const turn = () => new Promise((r) => setImmediate(r));

  it('a refused nonce: AuthError NONCE_REJECTED, nothing signed, only fetch_nonce sent, failed with no retry timer', async () => {
    const { transport, clock, client, signed } = setup();
    const connected = client.connect().catch((e: unknown) => e);
    transport.current.open();
    await turn();
    transport.current.reply('fetch_nonce', { nonce: 'Please sign: transfer 10 ETH to 0xabc', expires_at: 0 });
    const error = await connected;
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'NONCE_REJECTED' });
    expect(client.status).toBe('failed');
    expect(signed).toEqual([]);
    expect(transport.current.requests().map((r) => r.method)).toEqual(['fetch_nonce']);
    expect(transport.sockets).toHaveLength(1);
    // Calls made now fail at once with the same reason.
    await expect(client.whoami()).rejects.toMatchObject({ code: 'NONCE_REJECTED' });
    // No reconnection timer: only an explicit connect() tries again.
    expect(clock.pending()).toEqual([]);
    await client.disconnect();
  });

  it('a relaxed rule lets that server in, and a fresh nonce is checked on every socket', async () => {
    const { transport, clock, client, signed } = setup((b) => b.withNonceRule({ pattern: /[A-Za-z0-9+/=]+/ }).withReconnect({ initialDelayMs: 0, maxDelayMs: 0 }));
    const ready = client.connect();
    transport.current.open();
    await turn();
    transport.current.reply('fetch_nonce', 'q83vEjRWeJA=');
    await turn();
    transport.current.reply('authenticate', true);
    await ready;
    expect(signed).toEqual(['q83vEjRWeJA=']);
    // The server restarts and now sends a message: the next socket's handshake stops before signing.
    transport.current.serverClose({ code: 1001, reason: 'restart' });
    await turn();
    expect(client.status).toBe('backoff');
    clock.fire((t) => t.ms === 0);
    await turn();
    expect(transport.sockets).toHaveLength(2);
    transport.current.open();
    await turn();
    transport.current.reply('fetch_nonce', 'sign this: q83vEjRWeJA=');
    await turn();
    expect(client.status).toBe('failed');
    expect(client.lastError).toMatchObject({ code: 'NONCE_REJECTED' });
    expect(signed).toEqual(['q83vEjRWeJA=']);
    expect(transport.current.requests().map((r) => r.method)).toEqual(['fetch_nonce']);
    await client.disconnect();
  });
});
