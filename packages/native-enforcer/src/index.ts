// Public surface of @openshell/native-enforcer: build the launch spec from a policy,
// probe the kernel, and start commands through the native launcher.
export type { LandlockMode, LaunchRlimits, LaunchSpec } from './launch-spec.js';
export { LAUNCHER_EXIT } from './launch-spec.js';
export { encodeLaunchSpec } from './encode-launch-spec.js';
export {
  buildLaunchSpec,
  resolveProcessIdentity,
  SANDBOX_UID,
  SANDBOX_GID,
  BASELINE_READ_ONLY,
  BASELINE_READ_WRITE,
  type BuildLaunchSpecOptions,
  type ProcessIdentity,
  type ResolveIdentityOptions,
} from './build-launch-spec.js';
export { launcherPath } from './launcher-path.js';
export {
  probeKernel,
  type KernelProbe,
  type LandlockFeatures,
  type ProbeKernelOptions,
} from './probe-kernel.js';
export { spawnEnforced, type SpawnEnforcedOptions, type StdioEntry } from './spawn-enforced.js';
