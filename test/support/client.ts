/** Helpers shared by the tests that run a real client against a real server on loopback. */
import type { CircleWsClient, CircleWsStatus, TransportFactory } from '../../src/index.js';
import { nodeTransport } from '../../src/transport/node.js';

/** Resolves when the client reaches `status`; rejects after `timeoutMs` saying where it was instead. */
export function waitForStatus(client: CircleWsClient, status: CircleWsStatus, timeoutMs = 10_000): Promise<void> {
  if (client.status === status) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`waited ${timeoutMs} ms for ${status}; saw ${seen.join(' → ') || 'nothing'} (now ${client.status})`));
    }, timeoutMs);
    const off = client.on('status', (s) => {
      seen.push(s);
      if (s === status) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}

/** Records every status in order. */
export function recordStatuses(client: CircleWsClient): string[] {
  const seen: string[] = [];
  client.on('status', (s) => seen.push(s));
  return seen;
}

/** A Node transport that also records what it saw: sockets opened and every inbound text frame. */
export function recordingTransport(): { factory: TransportFactory; opened: () => number; inbound: string[] } {
  let opened = 0;
  const inbound: string[] = [];
  const factory: TransportFactory = (url, handlers) => {
    opened += 1;
    return nodeTransport(url, {
      ...handlers,
      message: (data) => {
        inbound.push(data);
        handlers.message(data);
      },
    });
  };
  return { factory, opened: () => opened, inbound };
}

/** The nonces the server issued, read from the recorded `fetch_nonce` responses (either result shape). */
export function noncesIn(inbound: string[]): string[] {
  const nonces: string[] = [];
  for (const frame of inbound) {
    const message = JSON.parse(frame) as { result?: unknown };
    const r = message.result;
    if (typeof r === 'string' && /^[0-9a-f]{32,}$/i.test(r)) nonces.push(r);
    else if (typeof r === 'object' && r !== null && typeof (r as { nonce?: unknown }).nonce === 'string') nonces.push((r as { nonce: string }).nonce);
  }
  return nonces;
}
