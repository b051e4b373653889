import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { OpenShellError } from '@openshell/policy-schema';

/**
 * Reads the gateway token from `path`, refusing a file other users could read or write
 * (like ssh refuses a group-readable private key): the token is what lets a process receive
 * every sandbox's real credentials over the control stream. The checks run on the open
 * descriptor, so the file cannot be swapped between the check and the read, and a symlink
 * in the last component is refused rather than followed.
 */
export function readTokenFile(path: string, flag = '--gateway-token-file'): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw new OpenShellError(
      'ERR_INPUT_UNREADABLE',
      `cannot read ${flag} ${path}: ${String(error)} (a symlink is refused; point at the file itself)`,
      { cause: error },
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new OpenShellError('ERR_USAGE', `${flag} ${path} is not a regular file`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new OpenShellError(
        'ERR_USAGE',
        `${flag} ${path} is owned by uid ${st.uid}, not by the user running the proxy (uid ${uid}); chown it to that user`,
      );
    }
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new OpenShellError(
        'ERR_USAGE',
        `${flag} ${path} has mode 0${mode.toString(8)}, readable or writable by other users; run chmod 600 ${path}`,
      );
    }
    const token = readFileSync(fd, 'utf8').trim();
    if (token === '') throw new OpenShellError('ERR_USAGE', `${flag} ${path} is empty`);
    return token;
  } finally {
    closeSync(fd);
  }
}
