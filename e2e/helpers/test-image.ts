// A small container image made on this host, so no test ever pulls from a registry: a
// merged-/usr root filesystem holding a few host binaries and exactly the libraries `ldd`
// lists for them, plus the escape battery's probe compiled static. The engine builds it from
// a `FROM scratch` Dockerfile (through testcontainers), which also exercises the build path.
import { chmod, copyFile, mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './isolated-gateway.js';

/** Host binaries the image carries, under /usr/bin with their usual names. */
const BINARIES = [
  'sh',
  'cat',
  'cp',
  'echo',
  'id',
  'ls',
  'sleep',
  'env',
  'tr',
  'grep',
  'wc',
  'ps',
  'pwd',
  'stat',
  'curl',
  'unshare',
  'nsenter',
  'getent',
  'mount',
  'su',
  'true',
];

export const PROBE_IN_IMAGE = '/usr/local/bin/probe';
const PROBE_SOURCE = fileURLToPath(
  new URL('../../packages/gateway/test/fixtures/battery-probe.c', import.meta.url),
);

/** The host's executable file (not a shell builtin) named `name`. */
async function which(name: string): Promise<string> {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const found = await realpath(join(dir, name)).catch(() => undefined);
    if (found !== undefined) return found;
  }
  throw new Error(`${name} not found on this host; install it to build the e2e image`);
}

async function librariesOf(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]).catch(() => ({ stdout: '' }));
  return [...stdout.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((m) => m[1] ?? '');
}

/** `/lib/x86_64-linux-gnu/libc.so.6` → `usr/lib/x86_64-linux-gnu/libc.so.6` (merged /usr). */
function underUsr(path: string): string {
  const relative = path.replace(/^\//, '');
  return relative.startsWith('usr/') ? relative : `usr/${relative}`;
}

/**
 * Writes `<dir>/Dockerfile` and `<dir>/rootfs/`. Merged /usr (bin, lib, lib64 are symlinks
 * into /usr) as on Debian, because the default policy's Landlock set names /usr and /lib.
 */
export async function writeTestImageContext(dir: string): Promise<void> {
  const root = join(dir, 'rootfs');
  for (const sub of ['usr/bin', 'usr/local/bin', 'usr/lib', 'usr/lib64', 'etc', 'sandbox', 'tmp']) {
    await mkdir(join(root, sub), { recursive: true });
  }
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) {
    await symlink(link === 'sbin' ? 'usr/bin' : `usr/${link}`, join(root, link));
  }
  const copied = new Set<string>();
  for (const name of BINARIES) {
    const binary = await which(name);
    await copyFile(binary, join(root, 'usr/bin', name));
    for (const lib of await librariesOf(binary)) {
      const target = join(root, underUsr(lib));
      if (copied.has(target)) continue;
      copied.add(target);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(await realpath(lib), target);
    }
  }
  // setuid like on the host, so the battery can show no_new_privs taking the privilege away.
  for (const name of ['mount', 'su']) await chmod(join(root, 'usr/bin', name), 0o4755);
  await run('gcc', ['-O2', '-static', '-o', join(root, 'usr/local/bin/probe'), PROBE_SOURCE]);
  await writeFile(join(root, 'usr/lib/os-release'), 'ID=openshell-e2e\nNAME="openshell e2e"\n');
  await symlink('../usr/lib/os-release', join(root, 'etc/os-release'));
  await writeFile(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n');
  await writeFile(join(dir, '.dockerignore'), '');
}
