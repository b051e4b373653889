import { randomBytes } from 'node:crypto';
import type { Policy } from '@openshell/policy-schema';
import type { ProveContext } from './attempt-spec.js';
import { chooseCredentialTarget, chooseL7Target } from './choose-proxy-targets.js';

/** Where the probe and scratch files live inside: /sandbox is writable and in every Landlock set. */
export const PROVE_SCRATCH = '/sandbox/.openshell-prove';
export const PROBE_NAME = 'openshell-prove-probe';
/** Limits the throwaway sandbox gets, so the cgroup attempts have a limit to hit. */
export const PROVE_PIDS_MAX = 64;
export const PROVE_MEMORY_MIB = 256;
/** The throwaway provider's variable inside the sandbox. */
export const PROVE_CREDENTIAL_KEY = 'OPENSHELL_PROVE_TOKEN';
/** The only host the throwaway provider is bound to (.invalid never resolves: RFC 2606). */
export const PROVE_BOUND_HOST = 'bound.openshell-prove.invalid';

export interface ContextInputs {
  readonly policy: Policy;
  readonly gatewayPorts: readonly number[];
  readonly supervisorPortHint: number;
  readonly tag?: string;
}

function isUnder(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root.replace(/\/$/, '')}/`);
}

/** Decides every name, target and limit of one proof run from the policy under test. */
export function buildProveContext(inputs: ContextInputs): ProveContext {
  const tag = inputs.tag ?? randomBytes(6).toString('hex');
  const deniedHost = `not-in-policy-${tag}.openshell-prove.invalid`;
  const fs = inputs.policy.filesystem_policy;
  const landlockSet = [
    ...fs.read_only,
    ...fs.read_write,
    ...(fs.include_workdir ? ['/sandbox'] : []),
  ];
  const l7 = chooseL7Target(inputs.policy);
  return {
    tag,
    scratch: PROVE_SCRATCH,
    probe: `${PROVE_SCRATCH}/${PROBE_NAME}`,
    hostTmpMarker: `openshell-prove-${tag}`,
    gatewayPorts: inputs.gatewayPorts,
    supervisorPortHint: inputs.supervisorPortHint,
    pidsMax: PROVE_PIDS_MAX,
    memoryMiB: PROVE_MEMORY_MIB,
    deniedHost,
    ...(l7 === undefined ? {} : { l7 }),
    credential: {
      envKey: PROVE_CREDENTIAL_KEY,
      dummy: `openshell-prove-dummy-${tag}`,
      target: chooseCredentialTarget(inputs.policy, deniedHost),
    },
    landlockAllows: (path) => landlockSet.some((root) => isUnder(path, root)),
  };
}
