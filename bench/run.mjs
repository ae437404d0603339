/**
 * The benchmark of circle-ws-client against a minimal hand-written `ws` client (the floor) and
 * rpc-websockets, on loopback. Runs the BUILT package (dist/); `npm run bench` builds first.
 *
 *   npm run bench                 # full run (a few minutes), writes bench/results/latest.json
 *   npm run bench -- --quick      # small counts, well under a minute
 *   npm run bench -- --only 2,3   # some figures only (written to bench/results/partial.json)
 *   npm run bench -- --out FILE   # another results file
 *
 * `ws` may load the optional native add-on `bufferutil` when it is installed (rpc-websockets
 * pulls it in). It is turned off here, before `ws` is first loaded, so every contender and the
 * server run the same pure-JavaScript `ws`, as a plain install of this package would.
 */
process.env.WS_NO_BUFFER_UTIL ??= '1';
process.env.WS_NO_UTF_8_VALIDATE ??= '1';

const { main } = await import('./lib/main.mjs');
try {
  await main(process.argv.slice(2));
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}
