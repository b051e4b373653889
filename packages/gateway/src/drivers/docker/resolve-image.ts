import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import { TOOL_ENV } from '../local/run-command.js';
import type { EngineClient } from './engine-client.js';

/** What `--from` names for the docker driver. */
export type ImageSource =
  | { readonly kind: 'image'; readonly reference: string }
  | { readonly kind: 'build'; readonly context: string; readonly dockerfile: string };

async function statOrUndefined(
  path: string,
): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  return stat(path).catch(() => undefined);
}

/**
 * `--from` is an image reference, a Dockerfile, or a directory holding a `Dockerfile`. A path
 * is recognised by existing on the gateway's host (or starting with `/`, `./`, `../`); anything
 * else is an image reference.
 */
export async function classifyFrom(from: string): Promise<ImageSource> {
  const looksLikePath = from.startsWith('/') || from.startsWith('./') || from.startsWith('../');
  const info = await statOrUndefined(from);
  if (info === undefined) {
    if (looksLikePath) {
      throw new OpenShellError(
        'ERR_USAGE',
        `--from ${from}: no such file or directory; give an image reference, a Dockerfile or a directory with a Dockerfile`,
      );
    }
    return { kind: 'image', reference: from };
  }
  const path = resolve(from);
  if (info.isFile()) return { kind: 'build', context: dirname(path), dockerfile: basename(path) };
  if ((await statOrUndefined(join(path, 'Dockerfile')))?.isFile() === true) {
    return { kind: 'build', context: path, dockerfile: 'Dockerfile' };
  }
  throw new OpenShellError(
    'ERR_USAGE',
    `--from ${from}: the directory has no Dockerfile; the docker driver takes an image reference, a Dockerfile or a directory with a Dockerfile (a root filesystem directory works with the local driver)`,
  );
}

/** The tag a local build gets: stable per context and Dockerfile, so rebuilds reuse the cache. */
export function buildTag(source: Extract<ImageSource, { kind: 'build' }>): string {
  const digest = createHash('sha256')
    .update(`${source.context}\0${source.dockerfile}`)
    .digest('hex');
  return `localhost/openshell-build-${digest.slice(0, 12)}:latest`;
}

/** Errors the build stream reports inside a 200 answer (`{"error": ...}` lines). */
export function findBuildError(stream: string): string | undefined {
  for (const line of stream.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      const message = parsed.errorDetail?.message ?? parsed.error;
      if (message !== undefined) return message;
    } catch {
      // Progress output that is not JSON carries no error.
    }
  }
  return undefined;
}

/**
 * The image to run for `from`: an existing local image as is (pulled only when missing), or
 * the context built by the engine (`POST /build`, the context sent as a tar from `tar(1)`).
 */
export async function resolveImage(engine: EngineClient, from: string): Promise<string> {
  const source = await classifyFrom(from);
  if (source.kind === 'image') {
    const encoded = encodeURIComponent(source.reference);
    try {
      await engine.json('GET', `/images/${encoded}/json`);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_SANDBOX_NOT_FOUND') throw error;
      const text = await engine.text('POST', `/images/create?fromImage=${encoded}`, 10 * 60_000);
      const message = findBuildError(text);
      if (message !== undefined) {
        throw new OpenShellError(
          'ERR_COMPUTE_DRIVER_FAILED',
          `image ${source.reference} is not on this host and pulling it failed: ${message}`,
        );
      }
    }
    return source.reference;
  }
  const tag = buildTag(source);
  const tar = spawn('/usr/bin/tar', ['-C', source.context, '-c', '.'], {
    env: TOOL_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tarError = '';
  tar.stderr.on('data', (chunk: Buffer) => (tarError += chunk.toString('utf8')));
  const query = `t=${encodeURIComponent(tag)}&dockerfile=${encodeURIComponent(source.dockerfile)}&rm=1`;
  const stream = await engine.upload(`/build?${query}`, tar.stdout, 'application/x-tar');
  const message = findBuildError(stream) ?? (tarError.trim() === '' ? undefined : tarError.trim());
  if (message !== undefined) {
    throw new OpenShellError(
      'ERR_COMPUTE_DRIVER_FAILED',
      `building ${join(source.context, source.dockerfile)} failed: ${message}`,
    );
  }
  return tag;
}
