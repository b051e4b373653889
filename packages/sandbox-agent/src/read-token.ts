import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { OpenShellError } from '@openshell/policy-schema';
import type { TokenSource } from './parse-agent-args.js';

/** A token is a short opaque string; anything longer is not one. */
const MAX_TOKEN_BYTES = 4096;

/**
 * Reads the per-sandbox token from an inherited fd (then closed, so no child inherits it)
 * or from a file that only its owner can read (DESIGN §3 step 7). Never argv or env: both
 * are readable through /proc by other processes.
 */
export function readToken(source: TokenSource): string {
  let fd: number;
  let what: string;
  if ('fd' in source) {
    fd = source.fd;
    what = `--token-fd ${fd}`;
  } else {
    what = `--token-file ${source.file}`;
    try {
      fd = openSync(source.file, 'r');
    } catch (cause) {
      throw new OpenShellError('ERR_INPUT_UNREADABLE', `${what}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  try {
    if ('file' in source && (fstatSync(fd).mode & 0o077) !== 0) {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `${what} is readable by group or others; chmod 600 it (the token grants control of the sandbox)`,
      );
    }
    const token = readFileSync(fd, 'utf8').trim();
    if (token === '' || Buffer.byteLength(token) > MAX_TOKEN_BYTES || /\s/.test(token)) {
      throw new OpenShellError(
        'ERR_INPUT_UNREADABLE',
        `${what} does not hold a token (empty, too long or containing spaces)`,
      );
    }
    return token;
  } catch (error) {
    if (error instanceof OpenShellError) throw error;
    throw new OpenShellError('ERR_INPUT_UNREADABLE', `${what}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    closeSync(fd);
  }
}
