/**
 * `eip1193Signer` against an independent wallet: an EIP-1193 provider built on ethers' `Wallet`,
 * which signs `personal_sign`'s hex message as bytes, as browser wallets do. Expected signatures
 * and keys come from the shared vectors (made with ethers) or from ethers itself, never from the
 * code under test; the handshake runs against the reference server on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { type BaseWallet, getBytes, Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  CircleWsClient,
  type Eip1193Provider,
  eip1193IdentityMessage,
  eip1193Signer,
  generateKeypair,
  InvalidArgumentError,
  verifySignature,
} from '../../src/index.js';
import { createCircleServer } from '../../src/server/index.js';

interface Vector {
  privateKey: string;
  publicKeyUncompressed: string;
  ethAddress: string;
  nonce: string;
  signature: string;
}
const { vectors } = JSON.parse(readFileSync(new URL('../vectors/eth-sign.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

interface Call {
  method: string;
  params: unknown;
}

/**
 * A wallet as an application sees it through EIP-1193: `personal_sign` with `[hexMessage, address]`.
 * `answer` decides, per call, what the person at the wallet does; every call is recorded.
 */
function walletProvider(wallet: BaseWallet, answer: (message: string, n: number) => 'sign' | 'decline' = () => 'sign') {
  const calls: Call[] = [];
  const provider: Eip1193Provider = {
    async request({ method, params }) {
      calls.push({ method, params });
      if (method !== 'personal_sign' || !Array.isArray(params)) throw Object.assign(new Error('unsupported'), { code: 4200 });
      const [message, address] = params as [string, string];
      if (address.toLowerCase() !== wallet.address.toLowerCase()) throw Object.assign(new Error('unknown account'), { code: 4100 });
      if (answer(message, calls.length) === 'decline') throw { code: 4001, message: 'User rejected the request.' };
      return wallet.signMessage(getBytes(message));
    },
  };
  return { provider, calls };
}

/** A provider whose user refuses everything. */
const refusing: Eip1193Provider = {
  request: async () => {
    throw { code: 4001, message: 'User rejected the request.' };
  },
};

const hexOf = (text: string): string => `0x${Buffer.from(text, 'utf8').toString('hex')}`;
const identityHex = hexOf(eip1193IdentityMessage);

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('signatures', () => {
  it.each(vectors.map((v) => [JSON.stringify(v.nonce).slice(0, 40), v] as const))('the shared vector for nonce %s, byte for byte', async (_name, v) => {
    const { provider } = walletProvider(new Wallet(`0x${v.privateKey}`));
    const signer = await eip1193Signer(provider, v.ethAddress);
    expect(signer.publicKey).toBe(v.publicKeyUncompressed);
    const signature = await signer.sign(v.nonce);
    expect(signature).toBe(v.signature);
    expect(verifySignature(v.nonce, signature, v.publicKeyUncompressed)).toBe(true);
  });

  it("learns the key ethers derives, with one prompt of the identity message, and passes nonces as hex of their UTF-8 bytes", async () => {
    const wallet = Wallet.createRandom();
    const { provider, calls } = walletProvider(wallet);
    // Any case of the address: wallets hand out the checksummed one.
    const signer = await eip1193Signer(provider, wallet.address.toUpperCase().replace('0X', '0x'));
    expect(`0x${signer.publicKey}`).toBe(wallet.signingKey.publicKey);
    expect(calls).toEqual([{ method: 'personal_sign', params: [identityHex, wallet.address.toLowerCase()] }]);
    const signature = await signer.sign('nonce_1');
    expect(calls[1]).toEqual({ method: 'personal_sign', params: ['0x6e6f6e63655f31', wallet.address.toLowerCase()] });
    expect(signature).toMatch(/^[0-9a-f]{128}(1b|1c)$/);
    expect(verifySignature('nonce_1', signature, wallet.signingKey.publicKey)).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('the identity message is worded for a person and could never pass as a nonce', () => {
    expect(eip1193IdentityMessage).toContain("share this account's public key");
    expect(eip1193IdentityMessage).toContain('does not log you in');
    expect(/^[A-Za-z0-9_.:-]+$/.test(eip1193IdentityMessage)).toBe(false);
  });

  it('a wallet that answers with v = 0/1 is normalised to 27/28', async () => {
    const v = vectors[0]!;
    const wallet = new Wallet(`0x${v.privateKey}`);
    const lowV: Eip1193Provider = {
      async request({ params }) {
        const signed = await wallet.signMessage(getBytes((params as string[])[0]!));
        const recovery = Number.parseInt(signed.slice(-2), 16) - 27;
        return `${signed.slice(0, -2).toUpperCase()}0${recovery}`;
      },
    };
    const signer = await eip1193Signer(lowV, v.ethAddress);
    expect(await signer.sign(v.nonce)).toBe(v.signature);
  });

  it('a wallet that signs the hex as text is caught before the server sees it', async () => {
    const wallet = Wallet.createRandom();
    const asText: Eip1193Provider = { request: async ({ params }) => wallet.signMessage((params as string[])[0]!) };
    await expect(eip1193Signer(asText, wallet.address)).rejects.toMatchObject({
      name: 'AuthError',
      code: 'SIGNING_FAILED',
      message: expect.stringMatching(/^the wallet signed with the account 0x[0-9a-f]{40}, not 0x[0-9a-f]{40}: select that account in the wallet$/),
    });
  });

  it('a switch of account between prompts fails the nonce, SIGNING_FAILED', async () => {
    const first = Wallet.createRandom();
    const second = Wallet.createRandom();
    let wallet = first;
    const switching: Eip1193Provider = { request: async ({ params }) => wallet.signMessage(getBytes((params as string[])[0]!)) };
    const signer = await eip1193Signer(switching, first.address);
    wallet = second;
    await expect(signer.sign('nonce_2')).rejects.toMatchObject({
      name: 'AuthError',
      code: 'SIGNING_FAILED',
      message: `the wallet's signature of the nonce is not by ${first.address.toLowerCase()}: another account is selected, or the wallet signed the hex as text`,
    });
  });

  it('another account than the one named', async () => {
    const wallet = Wallet.createRandom();
    const other = Wallet.createRandom();
    const lying: Eip1193Provider = { request: async ({ params }) => wallet.signMessage(getBytes((params as string[])[0]!)) };
    await expect(eip1193Signer(lying, other.address)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
      message: `the wallet signed with the account ${wallet.address.toLowerCase()}, not ${other.address.toLowerCase()}: select that account in the wallet`,
    });
  });
});

describe('what it refuses, and what it says', () => {
  it('a provider without request, an address that is not one', async () => {
    const { address } = Wallet.createRandom();
    await expect(eip1193Signer({} as Eip1193Provider, address)).rejects.toThrow(
      new InvalidArgumentError('eip1193Signer takes an EIP-1193 provider with a request() function (such as window.ethereum), got object'),
    );
    await expect(eip1193Signer(undefined as unknown as Eip1193Provider, address)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'eip1193Signer takes an EIP-1193 provider with a request() function (such as window.ethereum), got undefined',
    });
    const { provider, calls } = walletProvider(Wallet.createRandom());
    await expect(eip1193Signer(provider, 42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: "eip1193Signer takes the account's address, 0x and 40 hexadecimal characters, got number",
    });
    // A private key pasted by mistake: refused without being repeated.
    const key = generateKeypair().privateKey;
    const error = (await eip1193Signer(provider, `0x${key}`).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: "eip1193Signer takes the account's address, 0x and 40 hexadecimal characters, got 66 characters that are not that",
    });
    expect(error.message).not.toContain(key.slice(0, 8));
    await expect(eip1193Signer(provider, address.slice(2))).rejects.toMatchObject({
      message: "eip1193Signer takes the account's address, 0x and 40 hexadecimal characters, got 40 characters that are not that",
    });
    await expect(eip1193Signer(provider, `${address.slice(0, 41)}g`)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toEqual([]); // nothing was asked of the wallet
  });

  it('a user who declines: SIGNING_DECLINED, saying so', async () => {
    const { address } = Wallet.createRandom();
    const error = await eip1193Signer(refusing, address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'SIGNING_DECLINED', message: 'the user declined to sign the message that shares your public key in the wallet (EIP-1193 error 4001)' });

    const wallet = Wallet.createRandom();
    const { provider } = walletProvider(wallet, (message) => (message === identityHex ? 'sign' : 'decline'));
    const signer = await eip1193Signer(provider, wallet.address);
    await expect(signer.sign('nonce_3')).rejects.toMatchObject({
      name: 'AuthError',
      code: 'SIGNING_DECLINED',
      message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)',
    });
  });

  it("other wallet failures: SIGNING_FAILED with the EIP-1193 code, not the wallet's text", async () => {
    const wallet = Wallet.createRandom();
    const { provider } = walletProvider(wallet);
    // The provider refuses an account it does not hold with 4100.
    await expect(eip1193Signer(provider, Wallet.createRandom().address)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
      message: 'the wallet failed to sign the message that shares your public key (EIP-1193 error 4100)',
    });
    const broken: Eip1193Provider = {
      request: async () => {
        throw new Error('could not sign nonce_secret_123');
      },
    };
    const error = (await eip1193Signer(broken, wallet.address).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'SIGNING_FAILED', message: 'the wallet failed to sign the message that shares your public key' });
    expect(error.message).not.toContain('nonce_secret');
  });

  it('an answer that is not a 65-byte signature', async () => {
    const { address } = Wallet.createRandom();
    const answering = (value: unknown): Eip1193Provider => ({ request: async () => value });
    await expect(eip1193Signer(answering(null), address)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
      message: 'the wallet answered personal_sign with null, not a signature string',
    });
    await expect(eip1193Signer(answering(`0x${'ab'.repeat(64)}`), address)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
      message: "the wallet's signature must be 65 bytes (130 hexadecimal characters), got 128 characters",
    });
    await expect(eip1193Signer(answering(`0x${'ab'.repeat(64)}25`), address)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
      message: "the wallet's signature has v = 37, not 27, 28, 0 or 1",
    });
  });
});

describe('a client signing with the wallet', () => {
  it('authenticates against the reference server; whoami reports the wallet\'s key', async () => {
    const circle = generateKeypair();
    const server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
    cleanup.push(() => server.close());
    const wallet = Wallet.createRandom();
    const { provider, calls } = walletProvider(wallet);
    const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed)).withSigner(await eip1193Signer(provider, wallet.address)).build();
    cleanup.push(() => client.disconnect());
    await client.connect();
    expect(client.status).toBe('authenticated');
    expect(await client.whoami()).toEqual({ authenticated: true, pubkey: wallet.signingKey.publicKey.slice(2), circle: circle.publicKeyCompressed });
    expect(await client.play('let x = 10; x * 2')).toBe('20');
    // One prompt for the key, one for the nonce.
    expect(calls.map((c) => (c.params as string[])[0] === identityHex)).toEqual([true, false]);
  });

  it('a declined nonce leaves the client failed after exactly one prompt, and only connect() asks again', async () => {
    const circle = generateKeypair();
    const server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
    cleanup.push(() => server.close());
    const wallet = Wallet.createRandom();
    let decline = true;
    const { provider, calls } = walletProvider(wallet, (message) => (message !== identityHex && decline ? 'decline' : 'sign'));
    const signer = await eip1193Signer(provider, wallet.address);
    expect(calls).toHaveLength(1);
    const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withSigner(signer)
      .withReconnect({ initialDelayMs: 10, maxDelayMs: 20 })
      .build();
    cleanup.push(() => client.disconnect());
    const statuses: string[] = [];
    client.on('status', (s) => statuses.push(s));

    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'SIGNING_DECLINED', message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)' });
    expect(client.status).toBe('failed');
    expect(client.lastError?.code).toBe('SIGNING_DECLINED');
    expect(calls).toHaveLength(2);
    // Far longer than the backoff would wait: no new prompt, no new attempt.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toHaveLength(2);
    expect(statuses).toEqual(['connecting', 'fetchingNonce', 'signing', 'failed']);

    decline = false;
    await client.connect();
    expect(calls).toHaveLength(3);
    expect((await client.whoami()).pubkey).toBe(wallet.signingKey.publicKey.slice(2));
  });
});

describe('the edges, written out', () => {
  it('the identity message, word for word (it is what a person reads in the wallet)', () => {
    expect(eip1193IdentityMessage).toBe(
      "circle-ws-client: share this account's public key with the app.\n\n" +
        'Signing this message lets the app read the public key of your account. It does not log you in anywhere, approves no transaction and costs nothing.',
    );
  });

  it('an address with anything before its 0x is not an address', async () => {
    const wallet = Wallet.createRandom();
    const { provider, calls } = walletProvider(wallet);
    await expect(eip1193Signer(provider, `zz${wallet.address}`)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toEqual([]);
  });

  it('a signature with 0x, 0X or no prefix at all is read the same', async () => {
    const wallet = Wallet.createRandom();
    for (const prefix of ['0x', '0X', '']) {
      const provider: Eip1193Provider = {
        request: async ({ params }) => {
          const signature = await wallet.signMessage(getBytes((params as [string])[0]));
          return prefix + signature.slice(2);
        },
      };
      const signer = await eip1193Signer(provider, wallet.address);
      const signature = await signer.sign('nonce_7');
      expect(verifySignature('nonce_7', signature, signer.publicKey), prefix || 'no prefix').toBe(true);
    }
  });

  it('130 characters that are not all hex are refused', async () => {
    const { address } = Wallet.createRandom();
    const provider: Eip1193Provider = { request: async () => `0x${'zz'}${'ab'.repeat(63)}1b` };
    await expect(eip1193Signer(provider, address)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
      message: "the wallet's signature must be 65 bytes (130 hexadecimal characters), got 130 characters",
    });
  });

  it("a wallet failing with null or with an error: SIGNING_FAILED, the wallet's error kept as the cause", async () => {
    const { address } = Wallet.createRandom();
    const failing = new Error('bridge disconnected');
    for (const thrown of [null, failing]) {
      const provider: Eip1193Provider = {
        request: async () => {
          throw thrown;
        },
      };
      const error = (await eip1193Signer(provider, address).catch((e: unknown) => e)) as AuthError;
      expect(error).toMatchObject({ code: 'SIGNING_FAILED', message: 'the wallet failed to sign the message that shares your public key' });
      expect(error.cause).toBe(thrown);
    }
    const declined = { code: 4001, message: 'User rejected the request.' };
    const refusingOnce: Eip1193Provider = {
      request: async () => {
        throw declined;
      },
    };
    expect(((await eip1193Signer(refusingOnce, address).catch((e: unknown) => e)) as AuthError).cause).toBe(declined);
  });
});
