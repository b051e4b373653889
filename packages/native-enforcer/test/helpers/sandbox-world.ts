import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LandlockCompatibility, Policy } from '@openshell/policy-schema';
import { buildLaunchSpec, probeKernel, type LaunchSpec } from '../../src/index.js';

const execFileAsync = promisify(execFile);

export const SANDBOX_ID = 10001;
export const SYSTEM_READ_ONLY = ['/usr', '/lib', '/lib64', '/bin', '/sbin', '/etc', '/proc'];
const PROBE_SOURCE = fileURLToPath(new URL('../fixtures/escape-probe.c', import.meta.url));

/**
 * A temp directory tree that uid 10001 can traverse, with one directory per Landlock role.
 * Directories and files are world-writable/readable on purpose: whatever the sandbox user
 * cannot do there is refused by Landlock or seccomp, not by file permissions.
 */
export interface SandboxWorld {
  readonly root: string;
  /** Landlock read-only; holds the compiled escape probe. */
  readonly binDir: string;
  readonly probe: string;
  /** Landlock read-only, mode 0777, with a 0666 file.txt. */
  readonly roDir: string;
  /** Landlock read-write, mode 0777. */
  readonly rwDir: string;
  /** In no rule, mode 0755, with a 0644 secret.txt. */
  readonly hiddenDir: string;
  readonly cleanup: () => Promise<void>;
}

/** Fails with a clear message when the host cannot run the enforcement tests at all. */
export async function assertEnforcementHost(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('native-enforcer tests must run as root: the launcher switches to uid 10001');
  }
  const probe = await probeKernel();
  if (!probe.seccomp) throw new Error('this kernel lacks seccomp filters (CONFIG_SECCOMP_FILTER)');
  if (probe.landlock.abi < 6) {
    throw new Error(
      `these tests need Landlock ABI >= 6 (Linux 6.12+, for signal/abstract-socket scoping); ` +
        `this kernel reports ABI ${probe.landlock.abi}${probe.landlock.unavailableReason ? ` (${probe.landlock.unavailableReason})` : ''}`,
    );
  }
}

export async function createSandboxWorld(): Promise<SandboxWorld> {
  const root = await mkdtemp('/tmp/openshell-enforcer-test-');
  await chmod(root, 0o755);
  const binDir = join(root, 'bin');
  const roDir = join(root, 'ro');
  const rwDir = join(root, 'rw');
  const hiddenDir = join(root, 'hidden');
  for (const [dir, mode] of [
    [binDir, 0o755],
    [roDir, 0o777],
    [rwDir, 0o777],
    [hiddenDir, 0o755],
  ] as const) {
    await mkdir(dir);
    await chmod(dir, mode);
  }
  await writeFile(join(roDir, 'file.txt'), 'read-only content\n', { mode: 0o666 });
  await chmod(join(roDir, 'file.txt'), 0o666);
  await writeFile(join(hiddenDir, 'secret.txt'), 'host secret\n', { mode: 0o644 });
  const probe = join(binDir, 'escape-probe');
  await execFileAsync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', probe, PROBE_SOURCE]);
  return {
    root,
    binDir,
    probe,
    roDir,
    rwDir,
    hiddenDir,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export interface WorldSpecOptions {
  readonly landlock?: LandlockCompatibility | 'off';
  readonly extraReadOnly?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly groups?: readonly number[];
  readonly rlimits?: LaunchSpec['rlimits'];
}

/** A policy as the schema package would produce it (constructed directly: no YAML here). */
export function worldPolicy(world: SandboxWorld, compatibility: LandlockCompatibility): Policy {
  return {
    version: 1,
    filesystem_policy: {
      include_workdir: false,
      read_only: [...SYSTEM_READ_ONLY, world.binDir, world.roDir],
      read_write: [world.rwDir],
    },
    landlock: { compatibility },
    process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
    network_policies: {},
  };
}

/** Spec for `argv` as uid/gid 10001 over the world's policy (hard_requirement by default). */
export function worldSpec(
  world: SandboxWorld,
  argv: readonly string[],
  options: WorldSpecOptions = {},
): LaunchSpec {
  const mode = options.landlock ?? 'hard_requirement';
  const spec = buildLaunchSpec(worldPolicy(world, mode === 'off' ? 'best_effort' : mode), {
    argv,
    env: options.env ?? { PATH: '/usr/bin:/bin' },
    cwd: '/',
    uid: SANDBOX_ID,
    gid: SANDBOX_ID,
    groups: options.groups ?? [],
    extraReadOnly: options.extraReadOnly ?? [],
    rlimits: options.rlimits ?? {},
  });
  return mode === 'off' ? { ...spec, landlock: 'off' } : spec;
}

/** Adds the launcher's test-only switch that pretends the kernel has no Landlock. */
export function withLandlockUnavailable(payload: Buffer): Buffer {
  const end = Buffer.from('end=1\0');
  if (!payload.subarray(payload.length - end.length).equals(end))
    throw new Error('not an encoded spec');
  return Buffer.concat([
    payload.subarray(0, payload.length - end.length),
    Buffer.from('test_landlock_unavailable=1\0'),
    end,
  ]);
}
