/**
 * The package's reference server (`createCircleServer` from dist/) in a child process of the
 * bench, serving many circle keys: figure 8 (many circles in one process) faces it. Like
 * bench/server.mjs it runs apart so its CPU (it verifies every signature, as a Circle server
 * does) is never counted as the client's.
 *
 * Started by bench/lib/server-process.mjs (`startReferenceServer`) with an IPC channel. It waits
 * for `{ type: 'start', circles, maxConnections }` (the keys travel over IPC: 1,000 of them do not
 * fit a command line comfortably), replies `{ type: 'listening', port }`, and answers
 * `{ type: 'connections' }` with `{ type: 'connections', count }` so the bench can wait for the
 * previous round's sockets to be gone before the next one.
 */
import { createCircleServer } from 'circle-ws-client/server';

let server = null;

process.on('message', async (message) => {
  try {
    if (message?.type === 'start') {
      // handshakeTimeoutMs raised from 30 s: a thousand handshakes at once queue behind the
      // signature checks, and the figure measures that queue, not the server's deadline.
      server = await createCircleServer({ circles: message.circles, maxConnections: message.maxConnections, handshakeTimeoutMs: 120_000 });
      process.send({ type: 'listening', port: server.port });
    } else if (message?.type === 'connections') {
      process.send({ type: 'connections', count: server?.connections ?? 0 });
    }
  } catch (error) {
    process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
});

// The bench ends this process; it must not outlive its parent either.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  if (server === null) process.exit(0);
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
