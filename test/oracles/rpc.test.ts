/**
 * JSON-RPC framing and the two protocol versions' result shapes (protocol sections 2 and 3),
 * as a table of inputs and the literal outcome each must have.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { decodeFrame, encodeRequest } from '../../src/rpc/codec.js';
import { authenticatedFrom, nonceFrom, playOutputFrom, whoamiFrom } from '../../src/rpc/results.js';

describe('decodeFrame', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":"7","result":{"output":"20"}}', { kind: 'result', id: '7', result: { output: '20' } }],
    ['{"jsonrpc":"2.0","id":7,"result":null}', { kind: 'result', id: '7', result: null }],
    ['{"jsonrpc":"2.0","method":"tick","params":{"n":1}}', { kind: 'notification', method: 'tick', params: { n: 1 } }],
    ['{"jsonrpc":"2.0","id":"3","error":{"code":-32002,"message":"expired","data":{"reason":"expired"}}}', { kind: 'error', id: '3', error: { code: -32002, message: 'expired', data: { reason: 'expired' } } }],
    ['{"jsonrpc":"2.0","id":4,"error":{"code":-32600,"message":"bad"}}', { kind: 'error', id: '4', error: { code: -32600, message: 'bad' } }],
    ['{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}', { kind: 'error', id: null, error: { code: -32700, message: 'parse' } }],
    ['{"jsonrpc":"2.0","error":{"code":-32700}}', { kind: 'error', id: null, error: { code: -32700, message: 'no message' } }],
  ])('%s', (frame, expected) => {
    expect(decodeFrame(frame)).toEqual(expected);
  });

  it.each([
    ['not json', 'not JSON (8 characters)'],
    ['[1,2]', 'not a JSON-RPC object (an array)'],
    ['null', 'not a JSON-RPC object (object)'],
    ['"text"', 'not a JSON-RPC object (string)'],
    ['{"id":"1","error":{"message":"no code"}}', 'an error response without a numeric error code'],
    ['{"id":"1","error":null}', 'an error response without a numeric error code'],
    ['{"id":true,"result":1}', 'a result without a usable id'],
    ['{"jsonrpc":"2.0","id":"1"}', 'neither a response nor a notification: {"jsonrpc":"2.0","id":"1"}'],
    ['{"method":"m","id":"9"}', 'neither a response nor a notification: {"method":"m","id":"9"}'],
  ])('classifies %s as invalid: %s', (frame, reason) => {
    expect(decodeFrame(frame)).toEqual({ kind: 'invalid', reason });
  });

  it('an error field that is undefined is not an error response', () => {
    expect(decodeFrame('{"id":"1","result":5,"error":null}')).toEqual({ kind: 'invalid', reason: 'an error response without a numeric error code' });
    expect(decodeFrame('{"id":"1","result":5}')).toEqual({ kind: 'result', id: '1', result: 5 });
  });

  it('describes at most 80 characters of an unrecognised frame', () => {
    const frame = JSON.stringify({ x: 'y'.repeat(200) });
    expect(decodeFrame(frame)).toEqual({ kind: 'invalid', reason: `neither a response nor a notification: ${frame.slice(0, 80)}` });
  });

  it('encodes a request with named params', () => {
    expect(encodeRequest('5', 'play', { script: '1' })).toBe('{"jsonrpc":"2.0","id":"5","method":"play","params":{"script":"1"}}');
  });
});

describe('result shapes', () => {
  it('fetch_nonce: a non-empty string, or { nonce } with one', () => {
    expect(nonceFrom('abc')).toBe('abc');
    expect(nonceFrom({ nonce: 'abc', expires_at: 1 })).toBe('abc');
    for (const bad of ['', { nonce: '' }, { nonce: 5 }, null, ['abc'], 42, Object.assign(['x'], { nonce: 'abc' })]) {
      expect(() => nonceFrom(bad), JSON.stringify(bad)).toThrow(new ProtocolError('fetch_nonce returned neither a nonce string nor { nonce }'));
    }
  });

  it('authenticate: a boolean, or { authenticated: boolean }', () => {
    expect(authenticatedFrom(true)).toBe(true);
    expect(authenticatedFrom(false)).toBe(false);
    expect(authenticatedFrom({ authenticated: true })).toBe(true);
    expect(authenticatedFrom({ authenticated: false })).toBe(false);
    for (const bad of ['true', null, { authenticated: 'yes' }, Object.assign([true], { authenticated: true }), 1]) {
      expect(() => authenticatedFrom(bad), JSON.stringify(bad)).toThrow(new ProtocolError('authenticate returned neither a boolean nor { authenticated }'));
    }
  });

  it('play: a string, or { output: string }', () => {
    expect(playOutputFrom('20')).toBe('20');
    expect(playOutputFrom('')).toBe('');
    expect(playOutputFrom({ output: '20' })).toBe('20');
    for (const bad of [20, null, { output: 20 }, Object.assign(['20'], { output: '20' })]) {
      expect(() => playOutputFrom(bad), JSON.stringify(bad)).toThrow(new ProtocolError('play returned neither { output } nor a string'));
    }
  });

  it('whoami: an object, read liberally', () => {
    expect(whoamiFrom({ authenticated: true, pubkey: '04aa', circle: 'c' })).toEqual({ authenticated: true, pubkey: '04aa', circle: 'c' });
    expect(whoamiFrom({ authenticated: 'yes', pubkey: 5 })).toEqual({ authenticated: false, pubkey: null });
    for (const bad of [null, 'me', [{ authenticated: true }]]) expect(() => whoamiFrom(bad), JSON.stringify(bad)).toThrow(new ProtocolError('whoami returned something other than an object'));
  });
});
