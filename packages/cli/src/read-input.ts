import { readFile } from 'node:fs/promises';
import { OpenShellError } from '@openshell/policy-schema';

/** Reads a text file given on the command line (`-` = stdin) with a clear error when it can't. */
export async function readInputFile(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String(cause);
    throw new OpenShellError('ERR_INPUT_UNREADABLE', `cannot read ${file}: ${why}`, {
      cause,
      details: { file },
    });
  }
}
