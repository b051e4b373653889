import { Socket } from 'node:net';
import { OpenShellError } from '@openshell/policy-schema';

/**
 * Resolves when one byte arrives on the inherited start-gate fd, then closes it (no child may
 * inherit it). The driver writes that byte once the sandbox's network is configured: the agent
 * may load and probe meanwhile, but its first connection waits, so it never dials a netns whose
 * firewall and links are not in place yet. End of file or an error without the byte means the
 * driver gave up on this sandbox; the agent then fails instead of starting half set up.
 */
export function waitForStartGate(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let gate: Socket;
    try {
      gate = new Socket({ fd, readable: true, writable: false });
    } catch (cause) {
      reject(
        new OpenShellError(
          'ERR_INPUT_UNREADABLE',
          `--start-gate-fd ${String(fd)}: ${String(cause)}`,
        ),
      );
      return;
    }
    let opened = false;
    gate.once('data', () => {
      opened = true;
      gate.destroy();
      resolve();
    });
    gate.once('error', (cause) => {
      if (opened) return;
      gate.destroy();
      reject(
        new OpenShellError(
          'ERR_INPUT_UNREADABLE',
          `--start-gate-fd ${String(fd)}: ${cause.message}`,
        ),
      );
    });
    gate.once('close', () => {
      if (opened) return;
      reject(
        new OpenShellError(
          'ERR_INPUT_UNREADABLE',
          `--start-gate-fd ${String(fd)} closed before the driver released it: the sandbox's network was never reported ready`,
        ),
      );
    });
  });
}
