/**
 * The client's log lines, written out: what an operator greps for. Each expected line is a literal
 * (level, message and fields), so a changed or dropped line, or a field that goes missing, fails
 * here rather than passing unnoticed (no other test reads these lines).
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/index.js';
import { fakeSession, flush, handshake } from '../support/fake-session.js';

type Line = [level: keyof Logger, message: string, fields: Record<string, unknown> | undefined];

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const record = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    lines.push([level, message, fields]);
  };
  return { logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }, lines };
}

function logged() {
  const { logger, lines } = recordingLogger();
  const s = fakeSession((b) => b.withLogger(logger).withKeepAlive(false));
  return { ...s, lines };
}

describe('the client logs', () => {
  it('the socket opening, each status change and the close, with their fields', async () => {
    const s = logged();
    s.client.connect().catch(() => {});
    await handshake(s);
    s.fake.current.serverClose({ code: 4000, reason: 'bye' });
    await flush();
    await s.client.disconnect();
    expect(s.lines).toEqual([
      ['debug', 'status', { status: 'connecting', previous: 'disconnected' }],
      ['debug', 'socket open', { url: 'ws://fake/circle' }],
      ['debug', 'status', { status: 'fetchingNonce', previous: 'connecting' }],
      ['debug', 'status', { status: 'signing', previous: 'fetchingNonce' }],
      ['debug', 'status', { status: 'authenticating', previous: 'signing' }],
      ['debug', 'status', { status: 'authenticated', previous: 'authenticating' }],
      ['info', 'socket closed', { code: 4000, reason: 'bye' }],
      ['debug', 'status', { status: 'backoff', previous: 'authenticated' }],
      ['debug', 'status', { status: 'disconnected', previous: 'backoff' }],
    ]);
  });

  it('a close carries the HTTP status and the network error when there are some', async () => {
    const s = logged();
    s.client.connect().catch(() => {});
    s.fake.current.serverClose({ code: 1006, reason: '', status: 503, error: 'Unexpected server response: 503' });
    await flush();
    expect(s.lines).toContainEqual(['info', 'socket closed', { code: 1006, reason: '', status: 503, error: 'Unexpected server response: 503' }]);
    await s.client.disconnect();
  });

  it('frames it ignores, each with what was wrong', async () => {
    const s = logged();
    s.client.connect().catch(() => {});
    await handshake(s);
    s.lines.length = 0;
    s.fake.current.receiveBinary(12);
    s.fake.current.receiveJson({ jsonrpc: '2.0', id: '999', result: 1 });
    s.fake.current.receiveJson({ jsonrpc: '2.0', id: '998', error: { code: -32000, message: 'no' } });
    s.fake.current.receiveJson({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    s.fake.current.receive('not json');
    expect(s.lines).toEqual([
      ['warn', 'ignored a binary frame (not part of the protocol)', { bytes: 12 }],
      ['warn', 'ignored a response to no pending call', { id: '999' }],
      ['warn', 'ignored an error response to no pending call', { id: '998', code: -32000 }],
      ['warn', 'ignored an error response to no pending call', { id: null, code: -32700 }],
      ['warn', 'ignored a malformed frame', { reason: expect.any(String) }],
    ]);
    await s.client.disconnect();
  });

  it('an id it logs is cut to 40 characters (a hostile server chooses it)', async () => {
    const s = logged();
    s.client.connect().catch(() => {});
    await handshake(s);
    s.lines.length = 0;
    s.fake.current.receiveJson({ jsonrpc: '2.0', id: 'x'.repeat(100), result: 1 });
    s.fake.current.receiveJson({ jsonrpc: '2.0', id: 'y'.repeat(100), error: { code: 1, message: 'm' } });
    expect(s.lines).toEqual([
      ['warn', 'ignored a response to no pending call', { id: 'x'.repeat(40) }],
      ['warn', 'ignored an error response to no pending call', { id: 'y'.repeat(40), code: 1 }],
    ]);
    await s.client.disconnect();
  });

  it('listeners that throw, and an idempotent call it will send again', async () => {
    const s = logged();
    s.client.on('notification', () => {
      throw new Error('listener bug');
    });
    s.client.connect().catch(() => {});
    await handshake(s);
    s.client.on('status', () => {
      throw new Error('status bug');
    });
    s.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: {} });
    const call = s.client.whoami();
    await flush();
    const id = s.fake.current.lastRequest('whoami')?.id;
    s.lines.length = 0;
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(s.lines).toEqual([
      ['info', 'socket closed', { code: 1006, reason: '' }],
      ['info', 'will re-send after reconnecting (idempotent)', { method: 'whoami', id }],
      ['debug', 'status', { status: 'backoff', previous: 'authenticated' }],
      ['error', 'a status listener threw', { error: 'Error: status bug' }],
    ]);
    await s.client.disconnect();
    await expect(call).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });

  it('a notification listener that throws is logged and the others still run', async () => {
    const s = logged();
    const seen: string[] = [];
    s.client.on('notification', () => {
      throw new Error('listener bug');
    });
    s.client.on('notification', (n) => seen.push(n.method));
    s.client.connect().catch(() => {});
    await handshake(s);
    s.lines.length = 0;
    s.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: { n: 1 } });
    expect(s.lines).toEqual([['error', 'a notification listener threw', { error: 'Error: listener bug' }]]);
    expect(seen).toEqual(['tick']);
    await s.client.disconnect();
  });
});
