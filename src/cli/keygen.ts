/**
 * `circle-ws keygen`: a fresh secp256k1 key pair, printed as JSON or kept in a 0600 file.
 */
import { generateKeypair } from '../auth/crypto.js';
import { parseCommand, UsageError } from './args.js';
import { type CliIo, type Command, EXIT } from './io.js';
import { writeKeyFile } from './keys.js';

const usage = `Usage: circle-ws keygen [--out FILE [--force]]

Makes a new secp256k1 key pair from the system's secure random source and prints it as JSON:
  {"publicKey": "04…", "publicKeyCompressed": "02…", "privateKey": "…"}

Options:
  --out FILE   write the private key (64 hex characters and a newline) to FILE with mode 0600
               and print only the public keys and "keyFile"
  --force      with --out, overwrite FILE if it exists
  -h, --help   show this help

Use the key file with: circle-ws connect URL --key-file FILE
`;

/**
 * Runs `keygen`.
 * @example await keygen.run(['--out', 'me.key'], io); // writes me.key, prints the public keys
 */
export const keygen: Command = {
  name: 'keygen',
  summary: 'make a new key pair (JSON on stdout, or the private key in a 0600 file)',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const parsed = parseCommand(argv, { out: { type: 'string' }, force: { type: 'boolean' } }, { min: 0, max: 0 });
    if (parsed === 'help') {
      io.stdout.write(usage);
      return EXIT.ok;
    }
    const { out, force = false } = parsed.values;
    if (force && out === undefined) throw new UsageError('--force only applies with --out FILE');
    const pair = generateKeypair();
    if (out === undefined) {
      // Printing the private key is the point here: the user asked for it and has no file.
      io.stdout.write(`${JSON.stringify(pair, ['publicKey', 'publicKeyCompressed', 'privateKey'], 2)}\n`);
      if (io.stdout.isTTY) io.stderr.write('note: the private key is on your screen; use --out FILE to keep it out of terminal scrollback\n');
      return EXIT.ok;
    }
    const keyFile = writeKeyFile(out, pair.privateKey, { force });
    io.stdout.write(`${JSON.stringify({ publicKey: pair.publicKey, publicKeyCompressed: pair.publicKeyCompressed, keyFile }, null, 2)}\n`);
    return EXIT.ok;
  },
};
