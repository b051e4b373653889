import { existsSync } from 'node:fs';
import type { KernelProbe } from '@openshell/native-enforcer';
import type { ProbeSummary } from '@openshell/proto';

/** Landlock ABI that restricts truncate(2); below it a read_only file can still be emptied. */
const LANDLOCK_TRUNCATE_ABI = 3;

/** What hello tells the gateway about this kernel, including what will not be enforced. */
export function toProbeSummary(probe: KernelProbe): ProbeSummary {
  const unenforced: string[] = [];
  if (probe.landlock.abi === 0) {
    unenforced.push(
      `filesystem: Landlock unavailable (${probe.landlock.unavailableReason ?? 'unknown reason'})`,
    );
  } else if (probe.landlock.abi < LANDLOCK_TRUNCATE_ABI) {
    unenforced.push(`filesystem: Landlock ABI ${probe.landlock.abi} cannot restrict truncate`);
  }
  if (!probe.seccomp)
    unenforced.push('process: seccomp filters unavailable (namespace creation not blocked)');
  if (!probe.noNewPrivs) unenforced.push('process: no_new_privs unavailable');
  return {
    landlockAbi: probe.landlock.abi,
    seccompFilter: probe.seccomp,
    noNewPrivs: probe.noNewPrivs,
    cgroupV2: existsSync('/sys/fs/cgroup/cgroup.controllers'),
    kernelRelease: probe.kernelRelease,
    unenforced,
  };
}
