import { chmod, mkdir, realpath, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { OpenShellError } from '@openshell/policy-schema';
import { runCommand } from '../local/run-command.js';

/** Inside every container: the host's node and its shared libraries, read-only, root-only. */
export const NODE_DIR = '/run/openshell/node';

/** The host's Node runtime as binds into a container, and the path the agent starts it by. */
export interface NodeRuntime {
  /** Executable inside the container that runs the host's node with the host's libraries. */
  readonly nodePath: string;
  readonly binds: readonly { readonly source: string; readonly target: string }[];
}

/**
 * The image brings no Node (and maybe not the libstdc++ node links against): the agent runs on
 * the host's node binary, loaded by the host's own dynamic loader with only the host's
 * libraries (`ld.so --library-path`), so it works on any image, even one without a libc. The
 * launcher and pty helper are static. Sandboxed processes never see any of it (/run/openshell
 * is 0700 root and outside Landlock's set).
 */
export async function prepareNodeRuntime(
  stateDir: string,
  nodeBinary = process.execPath,
): Promise<NodeRuntime> {
  const node = await realpath(nodeBinary);
  const ldd = await runCommand(['/usr/bin/ldd', node]);
  if (ldd.code !== 0) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      `cannot list the shared libraries of ${node} (ldd: ${ldd.stderr.trim()}); install libc-bin`,
    );
  }
  const libs = parseLdd(ldd.stdout);
  const loader = libs.find((lib) => /^ld-linux.*\.so/.test(basename(lib)));
  if (loader === undefined) {
    throw new OpenShellError(
      'ERR_HOST_UNSUPPORTED',
      `${node} has no dynamic loader in its ldd output; a static node would need no libraries, but this driver expects the usual dynamically linked one`,
    );
  }
  const binds = [{ source: node, target: `${NODE_DIR}/bin/node` }];
  for (const lib of libs) {
    binds.push({ source: await realpath(lib), target: `${NODE_DIR}/lib/${basename(lib)}` });
  }
  const dir = join(stateDir, 'node');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const script = join(dir, 'run-node');
  // The loader's --argv0 keeps argv[0] "node"; only constants are written into the script.
  await writeFile(
    script,
    `#!/bin/sh\nexec ${NODE_DIR}/lib/${basename(loader)} --library-path ${NODE_DIR}/lib --argv0 node ${NODE_DIR}/bin/node "$@"\n`,
    { mode: 0o755 },
  );
  await chmod(script, 0o755);
  binds.push({ source: script, target: `${NODE_DIR}/run-node` });
  return { nodePath: `${NODE_DIR}/run-node`, binds };
}

/** Absolute library paths from `ldd` output (`name => /path (addr)` and `/path (addr)` lines). */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match?.[1] !== undefined) paths.add(match[1]);
  }
  return [...paths];
}
