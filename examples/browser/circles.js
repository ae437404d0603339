// The many-circles page: one CircleWsManager over three circles, each on its own reference server,
// side by side, their states live; a button per circle restarts that circle's server only.
import { CircleWsManager, generateKeypair } from '/circle-ws-client.js';

const $ = (id) => document.getElementById(id);

function log(text, kind = 'info') {
  const item = document.createElement('li');
  item.className = kind;
  item.innerHTML = `<time>${new Date().toISOString().slice(11, 23)}</time>`;
  item.append(document.createTextNode(text));
  $('log').prepend(item);
}

const config = await fetch('/api/config').then((response) => response.json());
const short = (url) => url.replace(/\/([0-9a-f]{10})[0-9a-f]+$/, '/$1…');
// One identity for every circle, made in the page: the private key never leaves this tab.
const manager = CircleWsManager.builder()
  .withKeypair(generateKeypair().privateKey)
  .withClient((b) => b.withKeepAlive({ intervalMs: 5_000, timeoutMs: 3_000 }).withReconnect({ initialDelayMs: 250, maxDelayMs: 4_000 }))
  .withCircle(config.circles)
  .build();

// One card per circle: its status, attempt, next retry, last failure, output, and its server's restart button.
config.circles.forEach((url, index) => {
  const card = document.createElement('section');
  card.className = 'pane circle';
  card.dataset.index = String(index);
  card.innerHTML = `
    <h2>circle ${index + 1} <small class="url"></small></h2>
    <p class="status">status: <strong class="circle-status" data-status="disconnected">disconnected</strong></p>
    <dl class="facts">
      <dt>attempt</dt><dd class="attempt">0</dd>
      <dt>next retry</dt><dd class="retry">–</dd>
      <dt>last failure</dt><dd class="failure">none</dd>
      <dt>output</dt><dd class="output">–</dd>
    </dl>
    <button class="restart" type="button" title="Only this circle's server closes and starts again">Restart this server</button>`;
  card.querySelector('.url').textContent = short(url);
  card.querySelector('.restart').addEventListener('click', async () => {
    log(`restarting server ${index + 1} (down for 1 s)`);
    const body = await fetch(`/api/restart-server?server=${index}&downMs=1000`, { method: 'POST' }).then((r) => r.json());
    log(body.ok ? `server ${index + 1} back on port ${body.port} (restart #${body.restarts})` : `restart failed: ${body.error}`, body.ok ? 'info' : 'bad');
  });
  $('circles').append(card);
});

const cardOf = (url) => document.querySelector(`.circle[data-index="${config.circles.indexOf(url)}"]`);

/** Redraws from `manager.status`: plain data, a new object only when something changed. */
let drawn;
function draw() {
  const status = manager.status;
  if (status === drawn) return;
  drawn = status;
  $('manager-state').textContent = status.state;
  $('manager-state').dataset.status = status.state;
  const counts = Object.entries(status.counts).filter(([, n]) => n > 0);
  $('counts').textContent = counts.map(([s, n]) => `${n} ${s}`).join(', ');
  for (const [url, circle] of Object.entries(status.circles)) {
    const card = cardOf(url);
    card.querySelector('.circle-status').textContent = circle.status;
    card.querySelector('.circle-status').dataset.status = circle.status;
    card.querySelector('.attempt').textContent = String(circle.attempt);
    card.querySelector('.retry').textContent = circle.status === 'backoff' ? `in ${circle.retryDelayMs} ms` : '–';
    card.querySelector('.failure').textContent = circle.lastFailure ? `${circle.lastFailure.code}` : 'none';
  }
}
manager.actor.subscribe(draw);
draw();

const changes = [];
manager.on('status', (url, status, previous) => {
  changes.push({ circle: config.circles.indexOf(url), status, previous, at: performance.now() });
  const kind = status === 'authenticated' ? 'good' : status === 'backoff' || status === 'failed' ? 'bad' : 'info';
  log(`circle ${config.circles.indexOf(url) + 1}: ${previous} → ${status}`, kind);
});

$('connect-all').addEventListener('click', async () => {
  log('connectAll()');
  const report = await manager.connectAll({ timeoutMs: 10_000 });
  for (const [url, result] of Object.entries(report)) {
    log(`circle ${config.circles.indexOf(url) + 1}: ${result.ok ? 'ready' : `${result.error.code}: ${result.error.message}`}`, result.ok ? 'good' : 'bad');
  }
});
$('disconnect-all').addEventListener('click', () => {
  log('disconnectAll()');
  manager.disconnectAll().then(() => log('disconnectAll() resolved'));
});
$('play-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const script = $('script').value;
  const results = await manager.playAll(script, { timeoutMs: 10_000 });
  for (const [url, result] of Object.entries(results)) {
    cardOf(url).querySelector('.output').textContent = result.ok ? result.value : result.error.code;
  }
});

// For the console and for tests.
window.demo = { manager, changes };
document.body.dataset.ready = 'true';
