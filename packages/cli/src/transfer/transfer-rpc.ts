import { once } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import { isOpenShellError } from '@openshell/policy-schema';
import type { UploadRequest, UploadResponse } from '@openshell/proto';
import type { GatewayConnection } from '../gateway/gateway-client.js';
import { fromGrpcError } from '../gateway/grpc-error.js';
import { extractTar, type ExtractResult } from './extract-tar.js';
import { packPath } from './pack-path.js';

/** Uploads a local file or directory into the sandbox (`dest` absent = /sandbox). */
export async function uploadPath(
  conn: Pick<GatewayConnection, 'client'>,
  sandbox: string,
  source: string,
  dest: string | undefined,
  options: { gitIgnore: boolean },
): Promise<UploadResponse & { entriesSent: number }> {
  const packed = packPath(source, options);
  let response!: Promise<UploadResponse>;
  const call = await new Promise<ReturnType<typeof conn.client.upload>>((resolveCall) => {
    response = new Promise<UploadResponse>((resolve, reject) => {
      resolveCall(
        conn.client.upload(function onUploadDone(err, res) {
          if (err !== null) reject(fromGrpcError(err));
          else resolve(res);
        }),
      );
    });
  });
  response.catch(() => {
    // Awaited below; this only prevents an unhandled rejection while the pipeline runs.
  });
  call.write({
    payload: { $case: 'header', value: { sandbox, ...(dest !== undefined ? { dest } : {}) } },
  } satisfies UploadRequest);
  try {
    for await (const chunk of packed.stream) {
      const msg: UploadRequest = { payload: { $case: 'chunk', value: chunk as Buffer } };
      if (!call.write(msg)) await once(call, 'drain');
    }
    await packed.done;
    call.end();
  } catch (err) {
    // When the gateway refused the upload, its status (already in `response`) is the reason
    // to report; otherwise the local failure is, and cancelling tells the gateway.
    call.cancel();
    const rpcError = await response.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw isOpenShellError(rpcError) && rpcError.code !== 'ERR_GATEWAY_UNAVAILABLE'
      ? rpcError
      : err;
  }
  const { entries } = await packed.done;
  return { ...(await response), entriesSent: entries };
}

/** Downloads a sandbox path into the local `dest` directory with the escape checks of extractTar. */
export async function downloadPath(
  conn: Pick<GatewayConnection, 'client'>,
  sandbox: string,
  path: string,
  dest: string,
): Promise<ExtractResult> {
  const call = conn.client.download({ sandbox, path });
  const chunks = new Transform({
    writableObjectMode: true,
    readableObjectMode: false,
    transform(msg: { chunk: Buffer }, _enc, cb) {
      cb(null, msg.chunk);
    },
  });
  const failed = new Promise<never>((_, reject) => {
    call.on('error', (err: unknown) => reject(fromGrpcError(err)));
  });
  failed.catch(() => {
    // Raced below; a late error after success is irrelevant.
  });
  const source: Readable = call.pipe(chunks);
  return Promise.race([extractTar(source, dest), failed]);
}
