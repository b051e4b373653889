import { constants as fsConstants, statSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenShellError } from '@openshell/policy-schema';
import { runCommand } from '../local/run-command.js';

// The container's start gate (see GATE_SCRIPT in plan-container.ts): a fifo in a root-only
// directory bound into the container, whose read end becomes the agent's fd 3.

const GATE_TIMEOUT_MS = 15_000;

/** Creates the fifo (0600 root); Node has no mkfifo of its own. */
export async function mkfifo(path: string): Promise<void> {
  const result = await runCommand(['/usr/bin/mkfifo', '-m', '0600', path]);
  if (result.code !== 0) {
    throw new OpenShellError('ERR_HOST_UNSUPPORTED', `mkfifo ${path}: ${result.stderr.trim()}`);
  }
}

/**
 * Unlinks the token fifo without stat-ing it, then stats a directory. Node 20's JS
 * `fs.realpathSync` (which `require` uses) reads the file type of the process's *last* stat
 * for cached path components and stops resolving at a FIFO: after an `fs.rm` of the fifo, the
 * next `require` of a pnpm-linked package resolved to its unresolved symlink path and failed
 * ("Cannot find module 'fast-deep-equal'" from ajv in the gateway's policy parser).
 */
export async function removeFifo(path: string, anyDirectory: string): Promise<void> {
  await unlink(path).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code !== 'ENOENT') throw cause;
  });
  statSync(anyDirectory);
}

/**
 * Opens the fifo's write end once the container's gate has opened the read end (a
 * non-blocking open fails with ENXIO until then), writes the token and closes it, so the agent
 * reads the token and EOF on fd 3. Gives up when the container stops or after 15 s.
 */
export async function openGate(
  path: string,
  token: string,
  stillRunning: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + GATE_TIMEOUT_MS;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      try {
        if (token !== '') await handle.write(token);
      } catch (cause) {
        // EPIPE: the command exited without reading fd 3; its exit is reported by waitExit.
        if ((cause as NodeJS.ErrnoException).code !== 'EPIPE') throw cause;
      } finally {
        await handle.close();
      }
      return;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENXIO') throw cause;
    }
    if (Date.now() > deadline || (attempt % 20 === 19 && !(await stillRunning()))) {
      throw new OpenShellError(
        'ERR_COMPUTE_DRIVER_FAILED',
        `the sandbox container never opened its start gate (${path}); does the image have /bin/sh?`,
      );
    }
    await sleep(2);
  }
}
