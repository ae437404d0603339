/**
 * Where the command line gets and keeps private keys: a file (mode 0600) or the CIRCLE_WS_KEY
 * environment variable, never an argument. Messages name the file or the variable, never the key.
 */
import { closeSync, fstatSync, fchmodSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuthError } from '../errors.js';
import { parsePrivateKey } from '../auth/crypto.js';
import { UsageError } from './args.js';

/** The environment variable a private key may come from. */
export const KEY_ENV = 'CIRCLE_WS_KEY';

/** Group and other permission bits: any of them lets someone else read or replace the key. */
const SHARED_BITS = 0o077;

/**
 * The private key to authenticate with: from `keyFile` when given, else from `CIRCLE_WS_KEY`,
 * else `null` (an anonymous client). A file others can read gets a warning through `warn`.
 * Throws {@link UsageError} for an unreadable file or a malformed key.
 * @example const key = loadPrivateKey({ keyFile: 'me.key', env: process.env, warn: console.error });
 */
export function loadPrivateKey(options: { keyFile: string | undefined; env: NodeJS.ProcessEnv; warn: (message: string) => void }): string | null {
  const { keyFile, env, warn } = options;
  if (keyFile !== undefined) {
    let text: string;
    try {
      const stats = statSync(keyFile);
      if (!stats.isFile()) throw new UsageError(`--key-file ${keyFile} is not a regular file`);
      // Windows has no POSIX mode bits worth checking.
      if (process.platform !== 'win32' && (stats.mode & SHARED_BITS) !== 0) {
        const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
        warn(`warning: key file ${keyFile} has mode ${mode}, so other users may read it; run: chmod 600 ${keyFile}`);
      }
      text = readFileSync(keyFile, 'utf8');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read --key-file ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    return checkedKey(text.trim(), `the key in ${keyFile}`);
  }
  const fromEnv = env[KEY_ENV]?.trim();
  if (fromEnv) return checkedKey(fromEnv, `${KEY_ENV}`);
  return null;
}

function checkedKey(key: string, where: string): string {
  try {
    parsePrivateKey(key).fill(0);
  } catch (error) {
    // AuthError messages describe the shape (length, characters), never the key itself.
    if (error instanceof AuthError) throw new UsageError(`${where} is not a valid private key: ${error.message}`);
    throw error;
  }
  return key;
}

/**
 * Writes `privateKey` (64 hex) and a newline to `file`, readable by its owner only. An existing
 * file is refused unless `force`; then it is truncated and its mode is reset to 0600 too, since
 * `open`'s mode applies only to files it creates. Returns the absolute path.
 * @example writeKeyFile('me.key', generateKeypair().privateKey, { force: false });
 */
export function writeKeyFile(file: string, privateKey: string, options: { force: boolean }): string {
  const path = resolve(file);
  let fd: number;
  try {
    // 'wx' fails if anything (even a dangling symlink) is there, so nothing is clobbered by accident.
    fd = openSync(path, options.force ? 'w' : 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new KeyFileExistsError(`${file} already exists; pass --force to overwrite it`);
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    if (process.platform !== 'win32') fchmodSync(fd, 0o600);
    writeSync(fd, `${privateKey}\n`);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** `keygen --out` was pointed at a file that exists, without `--force`. */
export class KeyFileExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileExistsError';
  }
}
