import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCode } from '../../src/errors.js';
import { CIRCLE, cleanup, connect, startServer, type Reply } from './helpers.js';

afterEach(cleanup);

async function client() {
  const server = await startServer();
  return connect(server.urlFor(CIRCLE.publicKeyCompressed));
}

describe('JSON-RPC envelope', () => {
  it('-32700 with id null for a frame that is not JSON', async () => {
    const c = await client();
    c.sendRaw('{"jsonrpc":"2.0","id":"1",');
    expect(await c.next()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: RpcErrorCode.ParseError, message: 'Parse error: the frame is not valid JSON' },
    });
    // The connection stays usable.
    expect((await c.call('whoami')).result).toMatchObject({ authenticated: false });
  });

  it.each([
    ['a JSON string', '"hello"', null, /must be a JSON object/],
    ['a number', '42', null, /must be a JSON object/],
    ['null', 'null', null, /must be a JSON object/],
    ['a batch', '[{"jsonrpc":"2.0","id":"1","method":"whoami","params":{}}]', null, /batches are not supported/],
    ['jsonrpc missing', '{"id":"1","method":"whoami","params":{}}', '1', /jsonrpc must be "2.0"/],
    ['jsonrpc "1.0"', '{"jsonrpc":"1.0","id":"1","method":"whoami","params":{}}', '1', /jsonrpc must be "2.0"/],
    ['method a number', '{"jsonrpc":"2.0","id":"1","method":5,"params":{}}', '1', /method must be a string/],
    ['method missing', '{"jsonrpc":"2.0","id":"1","params":{}}', '1', /method must be a string/],
    ['params missing', '{"jsonrpc":"2.0","id":"1","method":"whoami"}', '1', /params is required/],
    ['params an array', '{"jsonrpc":"2.0","id":"1","method":"whoami","params":[]}', '1', /params must be an object/],
    ['params null', '{"jsonrpc":"2.0","id":"1","method":"whoami","params":null}', '1', /params must be an object/],
    ['params a string', '{"jsonrpc":"2.0","id":"1","method":"whoami","params":"x"}', '1', /params must be an object/],
    ['id a boolean', '{"jsonrpc":"2.0","id":true,"method":"whoami","params":{}}', null, /id must be a string or a number/],
    ['id null', '{"jsonrpc":"2.0","id":null,"method":"whoami","params":{}}', null, /id must be a string or a number/],
    ['id an object', '{"jsonrpc":"2.0","id":{},"method":"whoami","params":{}}', null, /id must be a string or a number/],
  ])('-32600 for %s', async (_name, frame, id, message) => {
    const c = await client();
    c.sendRaw(frame);
    const reply = (await c.next()) as Reply;
    expect(reply.id).toBe(id);
    expect(reply.error?.code).toBe(RpcErrorCode.InvalidRequest);
    expect(reply.error?.message).toMatch(message);
  });

  it('-32601 for an unknown method, echoing the id', async () => {
    const c = await client();
    const reply = await c.call('rm_rf', {});
    expect(reply.error).toEqual({ code: RpcErrorCode.MethodNotFound, message: 'Method not found: rm_rf' });
  });

  it('echoes numeric ids', async () => {
    const c = await client();
    c.send({ jsonrpc: '2.0', id: 7, method: 'whoami', params: {} });
    expect(await c.next()).toMatchObject({ id: 7, result: { authenticated: false } });
  });

  it('never answers a notification, known method or not', async () => {
    const c = await client();
    c.send({ jsonrpc: '2.0', method: 'whoami', params: {} });
    c.send({ jsonrpc: '2.0', method: 'no_such_method', params: {} });
    c.send({ jsonrpc: '2.0', method: 'whoami' });
    // The first reply to arrive is the one to the request sent after the notifications.
    expect(await c.call('whoami')).toMatchObject({ result: { authenticated: false } });
  });

  it('does not execute notifications (a notified fetch_nonce issues nothing)', async () => {
    const c = await client();
    const { publicKey } = CIRCLE;
    c.send({ jsonrpc: '2.0', method: 'fetch_nonce', params: { pubkey: publicKey } });
    const reply = await c.call('authenticate', { pubkey: publicKey, signature: '00'.repeat(65) });
    expect(reply.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'no_nonce' } });
  });
});
