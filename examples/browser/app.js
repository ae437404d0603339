// The demo page: one client of the browser bundle, its statechart drawn live, an event log.
import { CircleWsClient, generateKeypair } from '/circle-ws-client.js';
import { renderStatechart } from '/diagram.js';

const $ = (id) => document.getElementById(id);
const started = performance.now();
let lastLogAt = started;

/** Appends a line to the event log: wall time, time since the previous line, text. */
function log(text, kind = 'info') {
  const now = performance.now();
  const clock = new Date().toISOString().slice(11, 23);
  const delta = `+${Math.round(now - lastLogAt)} ms`;
  lastLogAt = now;
  const item = document.createElement('li');
  item.className = kind;
  item.innerHTML = `<time>${clock}</time><span class="delta">${delta}</span>`;
  item.append(document.createTextNode(text));
  $('log').prepend(item);
}

const config = await fetch('/api/config').then((response) => response.json());
// A key pair made in the page: the private key never leaves this tab (and is never displayed).
const keys = generateKeypair();
const client = CircleWsClient.builder(config.url)
  .withKeypair(keys.privateKey)
  .withKeepAlive({ intervalMs: 5_000, timeoutMs: 3_000 })
  .withReconnect({ initialDelayMs: 250, maxDelayMs: 4_000 })
  .build();

$('server-url').textContent = config.url.replace(/\/([0-9a-f]{12})[0-9a-f]+$/, '/$1…');
$('public-key').textContent = `${keys.publicKey.slice(0, 18)}…`;

const chart = renderStatechart(client.actor.logic, $('diagram'));
const changes = [];

function show(snapshot) {
  chart.highlight(snapshot.value);
  const { attempt, lastFailure } = snapshot.context;
  $('attempt').textContent = String(attempt);
  $('last-failure').textContent = lastFailure ? `${lastFailure.code}: ${lastFailure.message}` : 'none';
}
show(client.actor.getSnapshot());
client.actor.subscribe(show);

client.on('status', (status, previous) => {
  changes.push({ status, previous, at: performance.now() });
  $('status').textContent = status;
  $('status').dataset.status = status;
  log(`${previous} → ${status}`, status === 'authenticated' ? 'good' : status === 'backoff' || status === 'failed' ? 'bad' : 'info');
});

const failed = (what) => (error) => log(`${what} failed: ${error?.name ?? 'Error'}: ${error?.message ?? error}`, 'bad');

$('connect').addEventListener('click', () => {
  log('connect()');
  client.connect().then(() => log('connect() resolved', 'good'), failed('connect()'));
});
$('disconnect').addEventListener('click', () => {
  log('disconnect()');
  client.disconnect().then(() => log('disconnect() resolved'), failed('disconnect()'));
});
$('whoami').addEventListener('click', () => {
  client.whoami({ timeoutMs: 10_000 }).then(
    (who) => log(`whoami → authenticated: ${who.authenticated}, pubkey ${who.pubkey ? `${who.pubkey.slice(0, 12)}…` : 'none'}`),
    failed('whoami'),
  );
});
$('play-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const script = $('script').value;
  $('play-output').textContent = '…';
  client.play(script, { timeoutMs: 10_000 }).then(
    (output) => {
      $('play-output').textContent = output;
      log(`play(${JSON.stringify(script)}) → ${JSON.stringify(output)}`, 'good');
    },
    (error) => {
      $('play-output').textContent = '';
      failed('play')(error);
    },
  );
});
$('restart').addEventListener('click', async () => {
  log('restarting the reference server (down for 1 s)');
  const response = await fetch('/api/restart-server?downMs=1000', { method: 'POST' });
  const body = await response.json();
  log(body.ok ? `reference server back on port ${body.port} (restart #${body.restarts})` : `restart failed: ${body.error}`, body.ok ? 'info' : 'bad');
});

// For the console and for tests.
window.demo = { client, changes, keys: { publicKey: keys.publicKey } };
log(`ready: ${client.status}`);
document.body.dataset.ready = 'true';
