/**
 * Where the command line gets and keeps private keys: a file (mode 0600) or the CIRCLE_WS_KEY
 * environment variable, never an argument. Messages name the file or the variable, never the key.
 *
 * Both directions work on one file descriptor from open to close: the checks (kind, mode, owner,
 * size) look at what was opened, so swapping the path between a check and the use gains nothing.
 */
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, readSync, type Stats, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuthError } from '../errors.js';
import { parsePrivateKey } from '../auth/crypto.js';
import { CliFailure, UsageError } from './args.js';

/** The environment variable a private key may come from. */
export const KEY_ENV = 'CIRCLE_WS_KEY';

/**
 * The largest key file read. A key is 64 hex characters and a newline; the margin allows for
 * a `0x`, CRLF or stray blank lines, while a path mistaken for a key file (a log, a device) is
 * refused before it is read into memory.
 */
export const MAX_KEY_FILE_BYTES = 4096;

/** Group and other permission bits: any of them lets someone else read or replace the key. */
const SHARED_BITS = 0o077;

// Not every platform has these (Windows has neither); 0 leaves the open as it would be without.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// Opening a FIFO would otherwise wait for a writer; with it the open returns and fstat refuses it.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * A path as a shell would need it, so a printed `chmod 600 …` line can be pasted as is.
 * @example shellQuote('my key.txt'); // "'my key.txt'"
 */
export function shellQuote(path: string): string {
  const safe = /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
  // A name starting with '-' would be read by chmod as an option.
  return safe.startsWith('-') ? `./${safe}` : safe;
}

/** An errno in words, with the code once (for searching), never the whole `Error ENOENT: ENOENT …`. */
function explain(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'it does not exist',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of its path is not a directory',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'the name is too long',
    ENXIO: 'it is a device or a pipe with nothing behind it',
  };
  if (typeof code === 'string') return `${words[code] ?? 'the system refused'} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The private key to authenticate with: from `keyFile` when given, else from `CIRCLE_WS_KEY`,
 * else `null` (an anonymous client). A key file that group or others may access is refused,
 * as ssh refuses one, unless `allowOpen`; then it only earns a warning through `warn`.
 * Throws {@link CliFailure} for a file that cannot be used (one line naming the file and the
 * problem), `UsageError` for a malformed key in the environment.
 * @example const key = loadPrivateKey({ keyFile: 'me.key', allowOpen: false, env: process.env, warn: console.error });
 */
export function loadPrivateKey(options: {
  keyFile: string | undefined;
  allowOpen?: boolean;
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
}): string | null {
  const { keyFile, env, warn } = options;
  if (keyFile !== undefined) {
    const text = readKeyFile(keyFile, options.allowOpen === true, warn);
    try {
      return checkedKey(text.trim());
    } catch (error) {
      if (error instanceof AuthError) throw new CliFailure(`the key file ${shellQuote(keyFile)} does not hold a valid private key: ${error.message}`);
      throw error;
    }
  }
  const fromEnv = env[KEY_ENV]?.trim();
  if (fromEnv) {
    try {
      return checkedKey(fromEnv);
    } catch (error) {
      if (error instanceof AuthError) throw new UsageError(`${KEY_ENV} is not a valid private key: ${error.message}`);
      throw error;
    }
  }
  return null;
}

function readKeyFile(file: string, allowOpen: boolean, warn: (message: string) => void): string {
  const shown = shellQuote(file);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NONBLOCK);
  } catch (error) {
    throw new CliFailure(`cannot read the key file ${shown}: ${explain(error)}`);
  }
  const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new CliFailure(`the key file ${shown} is ${kindOf(stats)}; it must be a regular file`);
    // Windows has no POSIX mode bits worth checking.
    if (process.platform !== 'win32' && (stats.mode & SHARED_BITS) !== 0) {
      const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
      const who = (stats.mode & 0o044) !== 0 ? 'read' : 'change';
      if (!allowOpen) {
        throw new CliFailure(
          `the key file ${shown} has mode ${mode}, so other users can ${who} it; it is refused, as ssh refuses such a key. ` +
            `Make it yours only with:\n  chmod 600 ${shown}\n(or pass --allow-open-key-file to use it as it is)`,
        );
      }
      warn(`warning: the key file ${shown} has mode ${mode}, so other users can ${who} it; used because of --allow-open-key-file. Fix it with: chmod 600 ${shown}`);
    }
    const tooLarge = new CliFailure(
      `the key file ${shown} is larger than ${MAX_KEY_FILE_BYTES} bytes; a key file holds one private key (64 hex characters), so it is not read`,
    );
    if (stats.size > MAX_KEY_FILE_BYTES) throw tooLarge;
    // The size can change after fstat (or lie, for /proc files): read at most one byte over.
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > MAX_KEY_FILE_BYTES) throw tooLarge;
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof CliFailure) throw error;
    throw new CliFailure(`cannot read the key file ${shown}: ${explain(error)}`);
  } finally {
    buffer.fill(0);
    closeSync(fd);
  }
}

function checkedKey(key: string): string {
  // AuthError messages describe the shape (length, characters), never the key itself.
  parsePrivateKey(key).fill(0);
  return key;
}

/**
 * Writes `privateKey` (64 hex) and a newline to `file`, readable by its owner only. An existing
 * file is refused unless `force`; even then a symbolic link, a file of another user, a file with
 * other hard links, or anything but a regular file is refused, since writing there would put
 * the key somewhere the user did not name. Returns the absolute path.
 * @example writeKeyFile('me.key', generateKeypair().privateKey, { force: false });
 */
export function writeKeyFile(file: string, privateKey: string, options: { force: boolean }): string {
  const path = resolve(file);
  const shown = shellQuote(file);
  const symlinkRefused = new CliFailure(
    `${shown} is a symbolic link; keygen does not write a key through one, even with --force. Remove the link or pick another path`,
  );
  let fd: number;
  try {
    // O_EXCL fails if anything (even a dangling symlink) is there; O_NOFOLLOW refuses a symlink
    // in the last component. No O_TRUNC: what was opened is checked before anything is lost.
    const flags = constants.O_WRONLY | constants.O_CREAT | O_NOFOLLOW | O_NONBLOCK | (options.force ? 0 : constants.O_EXCL);
    fd = openSync(path, flags, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || (code === 'EEXIST' && isSymlink(path))) throw symlinkRefused;
    if (code === 'EEXIST') throw new CliFailure(`${shown} already exists; pass --force to overwrite it`);
    throw new CliFailure(`cannot write the key file ${shown}: ${explain(error)}`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new CliFailure(`${shown} is ${kindOf(stats)}; keygen writes a key only to a regular file`);
    const uid = process.getuid?.();
    if (uid !== undefined && stats.uid !== uid) {
      throw new CliFailure(`${shown} belongs to another user (uid ${stats.uid}); keygen does not overwrite it, even with --force`);
    }
    if (stats.nlink > 1) {
      throw new CliFailure(`${shown} has ${stats.nlink - 1} other hard link(s); keygen does not overwrite it, even with --force (the key would appear there too)`);
    }
    ftruncateSync(fd, 0);
    // `open`'s mode applies only to a file it creates; an overwritten one is reset here.
    if (process.platform !== 'win32') fchmodSync(fd, 0o600);
    writeSync(fd, `${privateKey}\n`);
  } catch (error) {
    if (error instanceof CliFailure) throw error;
    throw new CliFailure(`cannot write the key file ${shown}: ${explain(error)}`);
  } finally {
    closeSync(fd);
  }
  return path;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
