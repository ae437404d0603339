import { afterEach, describe, expect, it } from 'vitest';
import { generateKeypair, signNonce } from '../../src/auth/crypto.js';
import type { Logger } from '../../src/logger.js';
import { CIRCLE, cleanup, connect, startServer } from './helpers.js';

afterEach(cleanup);

interface Record {
  level: keyof Logger;
  message: string;
  fields?: { [key: string]: unknown };
}

function recordingLogger(): { logger: Logger; records: Record[] } {
  const records: Record[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, fields?: { [key: string]: unknown }): void => {
      records.push({ level, message, fields });
    };
  return { records, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('logging', () => {
  it('logs connections, methods and auth outcomes without keys, nonces or signatures', async () => {
    const { logger, records } = recordingLogger();
    const server = await startServer({ logger });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    const keys = generateKeypair();

    const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const bad = signNonce(generateKeypair().privateKey, nonce);
    await client.call('authenticate', { pubkey: keys.publicKey, signature: bad });
    const nonce2 = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const good = signNonce(keys.privateKey, nonce2);
    await client.result('authenticate', { pubkey: keys.publicKey, signature: good });
    await client.result('play', { script: '1 + 1' });
    client.ws.close();
    await client.closed;
    await expect.poll(() => records.some((r) => r.message === 'connection closed')).toBe(true);

    const messages = records.map((r) => r.message);
    expect(messages).toEqual(
      expect.arrayContaining(['listening', 'connection opened', 'request', 'nonce issued', 'authentication refused', 'authenticated', 'connection closed']),
    );
    expect(records.find((r) => r.message === 'connection opened')?.fields).toMatchObject({ conn: 'c1', circle: `${CIRCLE.publicKeyCompressed.slice(0, 10)}…` });
    expect(records.filter((r) => r.message === 'request').map((r) => r.fields?.method)).toEqual(['fetch_nonce', 'authenticate', 'fetch_nonce', 'authenticate', 'play']);
    expect(records.find((r) => r.message === 'authentication refused')).toMatchObject({ level: 'warn', fields: { reason: 'bad_signature', refusals: 1 } });
    expect(records.find((r) => r.message === 'connection closed')?.fields).toMatchObject({ conn: 'c1', code: 1005 });

    const everything = JSON.stringify(records);
    for (const secret of [keys.privateKey, keys.publicKey, keys.publicKeyCompressed, CIRCLE.publicKeyCompressed, nonce, nonce2, bad, good]) {
      expect(everything).not.toContain(secret);
      // Not even a long piece of one.
      expect(everything).not.toContain(secret.slice(10, 42));
    }
  });
});
