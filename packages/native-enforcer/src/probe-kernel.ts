import { execFile } from 'node:child_process';
import { OpenShellError } from '@openshell/policy-schema';
import { launcherPath } from './launcher-path.js';

export interface LandlockFeatures {
  /** ABI 1: path-based read/write/execute rules. */
  readonly filesystem: boolean;
  /** ABI 2: cross-directory rename/link control. */
  readonly refer: boolean;
  /** ABI 3: truncate control (needed for hard_requirement). */
  readonly truncate: boolean;
  /** ABI 4: TCP bind/connect rules (unused: egress goes through the netns and proxy). */
  readonly networkTcp: boolean;
  /** ABI 5: ioctl on device files. */
  readonly ioctlDev: boolean;
  /** ABI 6: abstract unix sockets outside the domain are unreachable. */
  readonly scopeAbstractUnixSocket: boolean;
  /** ABI 6: processes outside the domain cannot be signalled. */
  readonly scopeSignal: boolean;
  /** ABI 7: audit logging flags for restrict_self. */
  readonly auditLogFlags: boolean;
}

/** What this kernel can enforce, as reported by `openshell-launcher --probe`. */
export interface KernelProbe {
  /** uname machine, e.g. x86_64, aarch64. */
  readonly arch: string;
  readonly kernelRelease: string;
  readonly landlock: {
    /** 0 when Landlock is unavailable. */
    readonly abi: number;
    /** Why it is unavailable; null when abi > 0. */
    readonly unavailableReason: string | null;
    readonly features: LandlockFeatures;
  };
  /** seccomp filters with errno actions. */
  readonly seccomp: boolean;
  /** Whether this (probing) process could create a user namespace. */
  readonly userNamespaces: boolean;
  readonly noNewPrivs: boolean;
}

export interface ProbeKernelOptions {
  /** Launcher to run; default launcherPath(). */
  readonly launcher?: string;
}

const FEATURE_KEYS: readonly (keyof LandlockFeatures)[] = [
  'filesystem',
  'refer',
  'truncate',
  'networkTcp',
  'ioctlDev',
  'scopeAbstractUnixSocket',
  'scopeSignal',
  'auditLogFlags',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the launcher's JSON field by field; a launcher from another build fails loudly. */
function toKernelProbe(value: unknown): KernelProbe | undefined {
  if (!isRecord(value) || !isRecord(value.landlock)) return undefined;
  const { landlock } = value;
  const features = landlock.features;
  if (!isRecord(features) || !FEATURE_KEYS.every((k) => typeof features[k] === 'boolean')) {
    return undefined;
  }
  const reason = landlock.unavailableReason;
  if (
    typeof value.arch !== 'string' ||
    typeof value.kernelRelease !== 'string' ||
    typeof landlock.abi !== 'number' ||
    !(reason === null || typeof reason === 'string') ||
    typeof value.seccomp !== 'boolean' ||
    typeof value.userNamespaces !== 'boolean' ||
    typeof value.noNewPrivs !== 'boolean'
  ) {
    return undefined;
  }
  return {
    arch: value.arch,
    kernelRelease: value.kernelRelease,
    landlock: {
      abi: landlock.abi,
      unavailableReason: reason,
      features: {
        filesystem: features.filesystem === true,
        refer: features.refer === true,
        truncate: features.truncate === true,
        networkTcp: features.networkTcp === true,
        ioctlDev: features.ioctlDev === true,
        scopeAbstractUnixSocket: features.scopeAbstractUnixSocket === true,
        scopeSignal: features.scopeSignal === true,
        auditLogFlags: features.auditLogFlags === true,
      },
    },
    seccomp: value.seccomp,
    userNamespaces: value.userNamespaces,
    noNewPrivs: value.noNewPrivs,
  };
}

/** Runs `openshell-launcher --probe` and returns what this kernel supports. */
export function probeKernel(options: ProbeKernelOptions = {}): Promise<KernelProbe> {
  const launcher = options.launcher ?? launcherPath();
  return new Promise((resolve, reject) => {
    execFile(
      launcher,
      ['--probe'],
      { env: {}, timeout: 10_000 },
      function onProbeExit(error, stdout, stderr) {
        if (error) {
          const hint =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? '; build it with `pnpm --filter @openshell/native-enforcer build`'
              : '';
          reject(
            new OpenShellError(
              'ERR_ENFORCER_FAILED',
              `kernel probe via ${launcher} failed: ${error.message}${hint}`,
              {
                cause: error,
                details: { stderr },
              },
            ),
          );
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(stdout);
        } catch (cause) {
          // Handled below: unparsable output and a wrong shape are the same failure.
          parsed = cause;
        }
        const probe = toKernelProbe(parsed);
        if (probe === undefined) {
          reject(
            new OpenShellError(
              'ERR_ENFORCER_FAILED',
              `kernel probe via ${launcher} printed unexpected output (stale build?): ${stdout.slice(0, 200)}`,
            ),
          );
          return;
        }
        resolve(probe);
      },
    );
  });
}
