import { OpenShellError } from '@openshell/policy-schema';
import { SandboxPhase, WatchEventType, type Sandbox } from '@openshell/proto';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { fromGrpcError } from '../gateway/grpc-error.js';
import { SILENT_PROGRESS, type Progress } from '../render/progress.js';

/**
 * Resolves with the sandbox once it is Ready, following WatchSandboxes rather than polling
 * (the gateway pushes each phase change). The watch starts with the current snapshot
 * (include_initial), so a sandbox that became Ready before the watch opened is still seen.
 * Error → ERR_SANDBOX_NOT_READY with the gateway's phase_reason; deleted meanwhile → same.
 */
export function waitForReady(
  conn: Pick<GatewayConnection, 'client'>,
  sandboxId: string,
  name: string,
  progress: Progress = SILENT_PROGRESS,
): Promise<Sandbox> {
  return new Promise<Sandbox>((resolve, reject) => {
    const stream = conn.client.watchSandboxes({ labelSelector: {}, includeInitial: true });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      stream.cancel();
      fn();
    };
    stream.on('data', function onWatchEvent(event: { type: WatchEventType; sandbox?: Sandbox }) {
      const sandbox = event.sandbox;
      if (sandbox === undefined || sandbox.id !== sandboxId) return;
      if (event.type === WatchEventType.WATCH_EVENT_TYPE_DELETED) {
        finish(() =>
          reject(
            new OpenShellError(
              'ERR_SANDBOX_NOT_READY',
              `sandbox "${name}" was deleted before it became ready`,
            ),
          ),
        );
        return;
      }
      switch (sandbox.phase) {
        case SandboxPhase.SANDBOX_PHASE_READY:
          finish(() => resolve(sandbox));
          return;
        case SandboxPhase.SANDBOX_PHASE_ERROR:
          finish(() =>
            reject(
              new OpenShellError(
                'ERR_SANDBOX_NOT_READY',
                `sandbox "${name}" failed to start: ${sandbox.phaseReason ?? 'no reason given'}. ` +
                  `See 'openshell logs ${name}', then delete it with 'openshell sandbox delete ${name}'`,
                { details: { sandbox: name, phase: 'Error' } },
              ),
            ),
          );
          return;
        case SandboxPhase.SANDBOX_PHASE_PROVISIONING:
          progress.step(`Provisioning sandbox ${name}`);
          return;
        case SandboxPhase.SANDBOX_PHASE_DELETING:
        case SandboxPhase.SANDBOX_PHASE_UNSPECIFIED:
        case SandboxPhase.UNRECOGNIZED:
          return;
      }
    });
    stream.on('error', (err: unknown) => {
      // Our own cancel() surfaces as a CANCELLED error after settling; nothing to report.
      if (!settled) finish(() => reject(fromGrpcError(err)));
    });
    stream.on('end', () => {
      finish(() =>
        reject(
          new OpenShellError(
            'ERR_GATEWAY_UNAVAILABLE',
            `the gateway ended the watch before sandbox "${name}" became ready; check 'openshell sandbox get ${name}'`,
          ),
        ),
      );
    });
  });
}
