import { toOpenShellError } from '@openshell/policy-schema';
import {
  createEngineClient,
  describeEngine,
  parseDockerHost,
  type EngineVersion,
} from './engine-client.js';

/** Default engine socket of the docker driver: Podman's system service as root. */
export const DEFAULT_DOCKER_HOST = 'unix:///run/podman/podman.sock';

/** What `openshell doctor` says about the container engine the docker driver would use. */
export interface EngineProbe {
  readonly socket: string;
  /** `Podman Engine 4.3.1, API 1.41`; absent when the engine did not answer. */
  readonly engine?: string;
  /** Why the engine is not usable (not running, not a unix socket). */
  readonly error?: string;
}

/**
 * Asks the engine behind `dockerHost` (default DOCKER_HOST, else Podman's root socket) for
 * its version. Never throws: an unreachable engine only means the docker driver is unavailable.
 */
export async function probeContainerEngine(
  dockerHost = process.env['DOCKER_HOST'] || DEFAULT_DOCKER_HOST,
): Promise<EngineProbe> {
  let socket = dockerHost;
  try {
    socket = parseDockerHost(dockerHost);
    const version = await createEngineClient(socket).json<EngineVersion>(
      'GET',
      '/version',
      undefined,
      3_000,
    );
    return { socket, engine: describeEngine(version) };
  } catch (error) {
    return { socket, error: toOpenShellError(error).message };
  }
}
