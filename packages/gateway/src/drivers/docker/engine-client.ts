import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { OpenShellError } from '@openshell/policy-schema';

/**
 * The Docker Engine API over a unix socket with node:http (`socketPath`): no client library,
 * and the same calls work against Podman's compatible service (`podman system service`). Only
 * the version-less paths are used, so any engine API version the server speaks answers.
 */
export interface EngineClient {
  /** The unix socket path this client talks to. */
  readonly socketPath: string;
  /** JSON request; resolves with the parsed body (undefined for an empty one). */
  json<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T>;
  /** Request without a body; resolves with the raw response text (progress streams). */
  text(method: string, path: string, timeoutMs?: number): Promise<string>;
  /** Streams `body` (a tar archive) to `path` and resolves with the whole response text. */
  upload(path: string, body: Readable, contentType: string): Promise<string>;
}

/** What `GET /version` reports; the fields differ slightly between Docker and Podman. */
export interface EngineVersion {
  readonly Version?: string;
  readonly ApiVersion?: string;
  readonly Components?: readonly { readonly Name?: string; readonly Version?: string }[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** `unix:///run/podman/podman.sock` or a bare absolute path → the socket path. */
export function parseDockerHost(host: string): string {
  const path = host.startsWith('unix://') ? host.slice('unix://'.length) : host;
  if (!path.startsWith('/')) {
    throw new OpenShellError(
      'ERR_USAGE',
      `docker host "${host}" is not a unix socket; use unix:///path/to/docker.sock (tcp:// engines cannot bind the agent install into containers)`,
    );
  }
  return path;
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function engineError(method: string, path: string, status: number, text: string): OpenShellError {
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not JSON: keep the raw text.
  }
  const code = status === 404 ? 'ERR_SANDBOX_NOT_FOUND' : 'ERR_COMPUTE_DRIVER_FAILED';
  return new OpenShellError(
    code,
    `container engine: ${method} ${path} → ${String(status)}: ${message}`,
    {
      details: { status, path },
    },
  );
}

/** A client for the engine behind `socketPath`; nothing is contacted until the first call. */
export function createEngineClient(socketPath: string): EngineClient {
  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    write: (req: ReturnType<typeof request>) => void,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath, method, path, headers: { host: 'docker', ...headers } },
        (response) => {
          readAll(response).then(
            (text) => resolve({ status: response.statusCode ?? 0, text }),
            reject,
          );
        },
      );
      req.setTimeout(timeoutMs, () => {
        req.destroy(new Error(`no answer within ${String(timeoutMs)} ms`));
      });
      req.on('error', (cause: NodeJS.ErrnoException) => {
        reject(
          new OpenShellError(
            'ERR_HOST_UNSUPPORTED',
            `cannot reach the container engine at ${socketPath} (${cause.code ?? cause.message}); start it (e.g. \`podman system service --time=0 unix://${socketPath}\`) or pass --docker-host`,
            { cause },
          ),
        );
      });
      write(req);
    });
  }

  return {
    socketPath,
    async json<T>(method: string, path: string, body?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> =
        payload === undefined
          ? {}
          : {
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(payload)),
            };
      const { status, text } = await send(
        method,
        path,
        headers,
        (req) => req.end(payload),
        timeoutMs,
      );
      if (status < 200 || status >= 300) throw engineError(method, path, status, text);
      if (text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new OpenShellError(
          'ERR_COMPUTE_DRIVER_FAILED',
          `container engine: ${method} ${path} answered ${String(status)} with non-JSON: ${text.slice(0, 200)}`,
          { cause },
        );
      }
    },
    async text(method, path, timeoutMs = DEFAULT_TIMEOUT_MS) {
      const { status, text } = await send(method, path, {}, (req) => req.end(), timeoutMs);
      if (status < 200 || status >= 300) throw engineError(method, path, status, text);
      return text;
    },
    async upload(path, body, contentType) {
      const { status, text } = await send(
        'POST',
        path,
        { 'content-type': contentType, 'transfer-encoding': 'chunked' },
        (req) => {
          body.on('error', (cause) => req.destroy(cause));
          body.pipe(req);
        },
        10 * 60_000,
      );
      if (status < 200 || status >= 300) throw engineError('POST', path, status, text);
      return text;
    },
  };
}

/** One line naming the engine (`Podman Engine 4.3.1, API 1.41`) for logs and `doctor`. */
export function describeEngine(version: EngineVersion): string {
  const podman = version.Components?.find((c) => c.Name === 'Podman Engine');
  const name = podman === undefined ? 'Docker Engine' : 'Podman Engine';
  const engineVersion = podman?.Version ?? version.Version ?? 'unknown version';
  return `${name} ${engineVersion}${version.ApiVersion === undefined ? '' : `, API ${version.ApiVersion}`}`;
}
