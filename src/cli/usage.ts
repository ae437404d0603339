/**
 * Every help text of `circle-ws`, apart from the code that runs the commands, so `--help` and
 * usage errors answer without loading the client, the server and their crypto.
 */

import type { ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const clientOptions = {
  'key-file': { type: 'string' },
  'allow-open-key-file': { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/**
 * Each command's options, here rather than in the command's module so that `main` can tell an
 * option's value from an argument (to say where a misplaced key was) without loading the command.
 */
export const OPTIONS = {
  demo: { timeout: { type: 'string' }, verbose: { type: 'boolean' } },
  keygen: { out: { type: 'string' }, force: { type: 'boolean' } },
  serve: {
    host: { type: 'string' },
    port: { type: 'string' },
    circle: { type: 'string', multiple: true },
    'no-auth': { type: 'boolean' },
    compat: { type: 'string' },
    'nonce-ttl': { type: 'string' },
  },
  connect: clientOptions,
  call: clientOptions,
  play: clientOptions,
  watch: { ...clientOptions, until: { type: 'string' }, for: { type: 'string' } },
} as const satisfies Record<string, OptionsConfig>;

/**
 * Each command's arguments besides options, by name, and how many of them are required. With
 * `manyUrls`, the first argument and every one right after it that looks like a URL (`scheme://…`)
 * are the URLs, counted as one argument: `play URL URL SCRIPT`.
 */
export const ARGUMENTS = {
  demo: { names: [], required: 0, manyUrls: false },
  keygen: { names: [], required: 0, manyUrls: false },
  serve: { names: [], required: 0, manyUrls: false },
  connect: { names: ['URL'], required: 1, manyUrls: false },
  call: { names: ['URL', 'METHOD', 'JSON'], required: 2, manyUrls: true },
  play: { names: ['URL', 'SCRIPT'], required: 2, manyUrls: true },
  watch: { names: ['URL'], required: 1, manyUrls: true },
} as const satisfies Record<keyof typeof OPTIONS, { names: readonly string[]; required: number; manyUrls: boolean }>;

/** Defaults the help texts promise and the commands apply. */
export const DEFAULTS = {
  /** connect, call, play: opening the socket, each handshake step, each call. */
  timeoutMs: 10_000,
  demoTimeoutMs: 30_000,
  demoScript: 'let x = 10; x * 2',
} as const;

const keyHelp = `The private key comes from --key-file FILE or the CIRCLE_WS_KEY environment variable (64 hex
characters), never from an argument: an argument that looks like a key is refused. The file
must be accessible by you only (chmod 600 FILE), as ssh requires, and at most 4096 bytes.
Without a key the client connects anonymously.`;

/** What `call` and `play` say about several URLs; `what` is the third field of an ok line. */
function manyHelp(what: string): string {
  return `With several URLs (each one after the first must start with ws:// or wss://), every circle
is asked at once and one line per circle is printed, in the order given, with tab-separated fields:
  URL<TAB>ok<TAB>${what}
  URL<TAB>error<TAB>CODE: message
A backslash, tab, newline or carriage return in a field is written \\\\, \\t, \\n or \\r. A circle
that fails does not stop the others.`;
}

/** The help of each subcommand, by name. */
export const USAGE = {
  demo: `Usage: circle-ws demo [--timeout MS] [--verbose]

Starts the reference server on a free loopback port, makes a key pair, connects and shows each
state with the time since the start, runs play("${DEFAULTS.demoScript}") and whoami, restarts the
server to show backoff and re-authentication, then disconnects and stops the server.

Options:
  --timeout MS  give up (exit 1) if the demo has not finished in time (default ${DEFAULTS.demoTimeoutMs})
  --verbose     also print the server's log on stderr
  -h, --help    show this help
`,
  keygen: `Usage: circle-ws keygen [--out FILE [--force]]

Makes a new secp256k1 key pair from the system's secure random source and prints it as JSON:
  {"publicKey": "04…", "publicKeyCompressed": "02…", "privateKey": "…"}

Options:
  --out FILE   write the private key (64 hex characters and a newline) to FILE with mode 0600
               and print only the public keys and "keyFile"
  --force      with --out, overwrite FILE if it exists; never a symbolic link, a file of another
               user, or a file with other hard links
  -h, --help   show this help

Use the key file with: circle-ws connect URL --key-file FILE
`,
  serve: `Usage: circle-ws serve [--host HOST] [--port PORT] [--circle PK]... [--no-auth]
                       [--compat v1|v2] [--nonce-ttl MS]

Runs the reference Circle WebSocket server until SIGINT (Ctrl-C) or SIGTERM. Prints
"listening on ws://HOST:PORT" and one URL per circle on stdout; logs go to stderr.

Options:
  --host HOST      interface to listen on (default 127.0.0.1)
  --port PORT      TCP port, 0 for any free one (default 8080); a port in use is an error (exit 1)
  --circle PK      serve the circle with this public key (hex, compressed or not); repeatable.
                   Without it a new circle key is generated and its URL printed.
  --no-auth        let play run without authentication
  --compat v1|v2   result shapes: v2 (OpenRPC v0.2.0, default) or v1 (Circles RPC v1.0.0)
  --nonce-ttl MS   how long an issued nonce stays valid (default 300000)
  -h, --help       show this help
`,
  connect: `Usage: circle-ws connect URL [--key-file FILE [--allow-open-key-file]] [--timeout MS]

Opens an interactive session with the circle at URL (ws://HOST:PORT/CIRCLE_PK). State changes
are printed as they happen; the client reconnects and re-authenticates on its own.

Options:
  --key-file FILE          the private key to authenticate with (mode 0600)
  --allow-open-key-file    use a key file that group or others can access (refused otherwise)
  --timeout MS             deadline for connecting, each handshake step and each call (default ${DEFAULTS.timeoutMs})
  -h, --help               show this help

${keyHelp}

Exit status: 0 after quit, exit or end of input (Ctrl-D); 130 after Ctrl-C (SIGINT), 143 after
SIGTERM; 1 when the first connection fails for good; 2 for a usage error.
`,
  call: `Usage: circle-ws call URL... METHOD [JSON] [--key-file FILE] [--timeout MS]
       circle-ws call URL... [options] -- METHOD [JSON]

Connects to URL (ws://HOST:PORT/CIRCLE_PK), authenticates if a key is given, calls METHOD with
the named parameters JSON (a JSON object, default {}), prints the result as JSON and disconnects.

${manyHelp('the result as one line of JSON')}

Options:
  --key-file FILE          the private key to authenticate with (mode 0600)
  --allow-open-key-file    use a key file that group or others can access (refused otherwise)
  --timeout MS             deadline for connecting and for the call (default ${DEFAULTS.timeoutMs})
  -h, --help               show this help

${keyHelp}

Examples:
  circle-ws call ws://127.0.0.1:8080/02ab… whoami
  CIRCLE_WS_KEY=… circle-ws call ws://127.0.0.1:8080/02ab… play '{"script":"1 + 2"}'

  (after --, every word is an argument, even one starting with '-'; options go before --)

Exit status: 0 with the result on stdout; 1 with the error (class, code, message) on stderr
(with several URLs: when any circle failed); 2 for a usage error.
`,
  play: `Usage: circle-ws play URL... SCRIPT [--key-file FILE] [--timeout MS]

Connects to URL (ws://HOST:PORT/CIRCLE_PK), authenticates, runs SCRIPT on the circle, prints
its output and disconnects.

${manyHelp('the output')}

Options:
  --key-file FILE          the private key to authenticate with (mode 0600)
  --allow-open-key-file    use a key file that group or others can access (refused otherwise)
  --timeout MS             deadline for connecting and for the call (default ${DEFAULTS.timeoutMs})
  -h, --help               show this help

${keyHelp}

Example:
  CIRCLE_WS_KEY=… circle-ws play ws://127.0.0.1:8080/02ab… 'let x = 10; x * 2'
  (a script starting with '-' goes after --:  circle-ws play URL -- '-1 + 2'; options go before --)

Exit status: 0 with the output on stdout; 1 with the error (class, code, message) on stderr
(with several URLs: when any circle failed); 2 for a usage error.
`,
  watch: `Usage: circle-ws watch URL... [--key-file FILE] [--timeout MS] [--until ready] [--for MS]

Connects to every circle (one client each, one identity) and shows each one's status as it
changes: state, attempt, next retry (the delay while in backoff) and last failure. Clients keep
alive and reconnect on their own. Runs until SIGINT (Ctrl-C) or SIGTERM, then disconnects.

On a terminal the table is redrawn in place. Otherwise (a file, a pipe) each change is one line
of tab-separated fields, stamped because a log is read later:
  TIME<TAB>URL<TAB>STATE<TAB>ATTEMPT<TAB>NEXT_RETRY_MS<TAB>LAST_FAILURE
(TIME is ISO 8601 UTC; NEXT_RETRY_MS is - unless in backoff; LAST_FAILURE is "CODE: message" or -)

Options:
  --key-file FILE          the private key to authenticate with (mode 0600)
  --allow-open-key-file    use a key file that group or others can access (refused otherwise)
  --timeout MS             deadline for opening the socket and each handshake step (default ${DEFAULTS.timeoutMs})
  --until ready            exit once every circle is ready (authenticated, or connected without a key)
  --for MS                 exit after MS milliseconds; with --until ready, the deadline for it
  -h, --help               show this help

${keyHelp}

Example:
  circle-ws watch ws://127.0.0.1:8080/02ab… ws://127.0.0.1:8081/03cd… --key-file circle.key

Exit status: 0 after SIGINT or SIGTERM, after --for MS, or when every circle is ready with
--until ready; 1 with --until ready when a circle failed for good (it will not retry) or --for
ran out first; 2 for a usage error.
`,
} as const;

export type CommandName = keyof typeof USAGE;

/** The commands of an interactive `connect` session. */
export const SESSION_HELP = `Commands:
  play SCRIPT         run SCRIPT on the circle and print its output
  call METHOD [JSON]  call METHOD with named parameters (a JSON object, default {})
  whoami              ask the server who this session is
  status              show the connection state
  help                show this list
  quit                disconnect and leave (also: exit, Ctrl-D)
`;

/** The top-level help. */
export const TOP_USAGE = `Usage: circle-ws <command> [options]

A client and a reference server for Circle WebSocket JSON-RPC servers.

Commands:
  demo                         start a local server and show connect, authenticate, play, restart, reconnect
  keygen [--out FILE]          make a new key pair (JSON on stdout, or the private key in a 0600 file)
  serve [options]              run the reference server until SIGINT or SIGTERM
  connect URL                  open an interactive session (play, call, whoami, status, quit)
  call URL... METHOD [JSON]    make one JSON-RPC call (on each circle) and print its result as JSON
  play URL... SCRIPT           run one script (on each circle) and print its output
  watch URL...                 connect to circles and show their status as it changes

Options:
  -h, --help                   show this help; "circle-ws COMMAND --help" shows a command's options
  -V, --version                print the version

URL is ws://HOST:PORT/CIRCLE_PK. The private key comes from --key-file FILE (mode 0600) or the
CIRCLE_WS_KEY environment variable, never from an argument: other users can read process
arguments.

Exit status: 0 success, 1 failure (with several URLs: any circle's), 2 usage error; connect exits
130 on Ctrl-C, 143 on SIGTERM; watch exits 0 on either.
`;
