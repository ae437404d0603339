/**
 * `circle-ws keygen`: a fresh secp256k1 key pair, printed as JSON or kept in a 0600 file.
 */
import { generateKeypair } from '../auth/crypto.js';
import { parseCommand, UsageError } from './args.js';
import { type CliIo, EXIT } from './io.js';
import { writeKeyFile } from './keys.js';

/**
 * Runs `keygen`.
 * @example await runKeygen(['--out', 'me.key'], io); // writes me.key, prints the public keys
 */
export async function runKeygen(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('keygen', argv);
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
}
