/**
 * `eip1193Signer` in a real browser (Chromium): the page builds an EIP-1193 provider on ethers'
 * `Wallet` (ethers bundled for the browser by esbuild, as an application would), signs in with it
 * through the package's browser bundle against the reference server on loopback, and asks whoami.
 * The expected key comes from ethers in the page, the server's answer from the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, ensureDist } from '../../examples/browser/build.mjs';
import { generateKeypair } from '../../src/auth/crypto.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';
import { type Browser, html, javascript, launchChromium, recordConsole, serveStatic, type StaticServer } from './helpers.js';

const circle = generateKeypair();
let browser: Browser | undefined;
let site: StaticServer | undefined;
let server: CircleServer | undefined;

/**
 * The page's side, as plain JavaScript (a string, so the test runner's transform never touches
 * it). `window.signIn(url, decline)` resolves with what the page saw.
 */
const page = `<!doctype html>
<meta charset="utf-8">
<title>eip1193Signer in a browser</title>
<script type="module">
  import * as api from '/circle-ws-client.js';
  import { Wallet, getBytes } from '/ethers.js';
  window.signIn = async (url, declineNonces) => {
    const wallet = Wallet.createRandom();
    const calls = [];
    // What a browser wallet offers a page: request({ method, params }), personal_sign signing the hex as bytes.
    const provider = {
      async request({ method, params }) {
        calls.push({ method, message: params[0], address: params[1] });
        if (method !== 'personal_sign') throw { code: 4200, message: 'unsupported' };
        if (declineNonces && params[0] !== calls[0].message) throw { code: 4001, message: 'User rejected the request.' };
        return wallet.signMessage(getBytes(params[0]));
      },
    };
    const signer = await api.eip1193Signer(provider, wallet.address);
    const client = api.CircleWsClient.builder(url).withSigner(signer).build();
    const statuses = [];
    client.on('status', (s) => statuses.push(s));
    let error = null;
    let whoami = null;
    try {
      await client.connect({ timeoutMs: 20000 });
      whoami = await client.whoami();
    } catch (e) {
      error = { code: e.code ?? null, message: e.message, isAuthError: e instanceof api.AuthError };
    }
    const result = {
      walletPublicKey: wallet.signingKey.publicKey,
      signerPublicKey: signer.publicKey,
      whoami,
      error,
      status: client.status,
      statuses: [...statuses],
      calls: calls.map((c) => ({ method: c.method, address: c.address, hexMessage: /^0x[0-9a-f]*$/.test(c.message) })),
      walletAddress: wallet.address.toLowerCase(),
    };
    // Long enough for a backoff to have prompted again, were it going to.
    await new Promise((resolve) => setTimeout(resolve, 300));
    result.promptsAfterWait = calls.length;
    result.statusesAfterWait = [...statuses];
    await client.disconnect();
    return result;
  };
</script>`;

beforeAll(async () => {
  ensureDist();
  const [pkg, ethers] = await Promise.all([bundle(), bundle({ entry: "export { Wallet, getBytes } from 'ethers';\n" })]);
  site = await serveStatic({
    '/': html(page),
    '/circle-ws-client.js': javascript(pkg.code),
    '/ethers.js': javascript(ethers.code),
  });
  server = await createCircleServer({ host: '127.0.0.1', port: 0, circles: [circle.publicKeyCompressed] });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await site?.close();
}, 30_000);

type SignIn = {
  walletPublicKey: string;
  signerPublicKey: string;
  whoami: { authenticated: boolean; pubkey: string | null } | null;
  error: { code: string | null; message: string; isAuthError: boolean } | null;
  status: string;
  statuses: string[];
  calls: Array<{ method: string; address: string; hexMessage: boolean }>;
  walletAddress: string;
  promptsAfterWait: number;
  statusesAfterWait: string[];
};

async function signIn(declineNonces: boolean): Promise<{ result: SignIn; log: string[] }> {
  const tab = await browser!.context.newPage();
  const log = recordConsole(tab);
  try {
    await tab.goto(`${site!.url}/`);
    await tab.waitForFunction(() => 'signIn' in window, undefined, { timeout: 30_000 });
    const result = await tab.evaluate(
      ([url, decline]) => (window as unknown as { signIn(url: string, decline: boolean): Promise<SignIn> }).signIn(url, decline),
      [server!.urlFor(circle.publicKeyCompressed), declineNonces] as const,
    );
    return { result, log };
  } finally {
    await tab.close();
  }
}

describe('eip1193Signer in Chromium', { timeout: 60_000 }, () => {
  it('signs in with an ethers wallet behind an EIP-1193 provider; whoami reports its key; a declined nonce is final', async () => {
    const { result, log } = await signIn(false);
    expect(result.error, log.join('\n')).toBeNull();
    expect(result.signerPublicKey).toBe(result.walletPublicKey.slice(2));
    expect(result.whoami).toMatchObject({ authenticated: true, pubkey: result.walletPublicKey.slice(2) });
    expect(result.statuses).toEqual(['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated']);
    // One prompt for the key, one for the nonce, both personal_sign of hex bytes for this account.
    expect(result.calls).toEqual([
      { method: 'personal_sign', address: result.walletAddress, hexMessage: true },
      { method: 'personal_sign', address: result.walletAddress, hexMessage: true },
    ]);
    expect(result.promptsAfterWait).toBe(2);
    expect(result.statusesAfterWait).toEqual(result.statuses);

    const declined = (await signIn(true)).result;
    expect(declined.error).toEqual({ code: 'SIGNING_DECLINED', message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)', isAuthError: true });
    expect(declined.status).toBe('failed');
    expect(declined.statuses).toEqual(['connecting', 'fetchingNonce', 'signing', 'failed']);
    expect(declined.promptsAfterWait).toBe(2);
    expect(declined.statusesAfterWait).toEqual(['connecting', 'fetchingNonce', 'signing', 'failed']);
  });
});
