import type { OpenShellServer, PolicyRevision } from '@openshell/proto';
import { PolicyStatus } from '@openshell/proto';
import {
  DEFAULT_POLICY,
  diffStatic,
  formatDiagnostic,
  hashPolicy,
  parsePolicy,
  policyToYaml,
} from '@openshell/policy-schema';
import { wireError } from './fake-wire-error.js';

/** What a new (changed) revision does after it is stored. */
export type LoadBehaviour = 'load' | 'fail' | 'pending';

export interface FakePolicyCall {
  readonly method: 'getPolicy' | 'setPolicy' | 'updatePolicy' | 'listPolicyRevisions';
  readonly request: unknown;
}

interface SandboxPolicies {
  revisions: PolicyRevision[];
  yaml: Map<number, string>;
  active: number;
}

const T0 = Date.UTC(2026, 10, 27, 10, 15, 2);

/**
 * In-memory policy half of the gateway for CLI tests: revisions per sandbox, validation and
 * static-change refusal with policy-schema (as the real gateway does), every call recorded.
 * `behaviour` decides what a stored revision does, so tests reach Loaded, Failed and a
 * --wait timeout without a proxy or agent.
 */
export function createFakePolicyService(sandboxes: readonly string[]) {
  const calls: FakePolicyCall[] = [];
  const state = new Map<string, SandboxPolicies>();
  const control = { behaviour: 'load' as LoadBehaviour, failure: 'proxy: cannot compile rule' };

  function store(sandbox: SandboxPolicies, yaml: string, hash: string): PolicyRevision {
    const version = (sandbox.revisions.at(-1)?.version ?? 0) + 1;
    // Times follow the version, so outputs do not depend on test order or other sandboxes.
    const clock = T0 + version * 60_000;
    const revision: PolicyRevision = {
      version,
      hash,
      status: PolicyStatus.POLICY_STATUS_PENDING,
      createdAtMs: clock,
    };
    if (control.behaviour === 'load') {
      revision.status = PolicyStatus.POLICY_STATUS_LOADED;
      revision.loadedAtMs = clock + 1_000;
      revision.proxyAckedAtMs = clock + 500;
      revision.agentAckedAtMs = clock + 1_000;
      for (const r of sandbox.revisions) {
        if (r.status === PolicyStatus.POLICY_STATUS_PENDING) {
          r.status = PolicyStatus.POLICY_STATUS_SUPERSEDED;
        }
      }
      sandbox.active = version;
    } else if (control.behaviour === 'fail') {
      revision.status = PolicyStatus.POLICY_STATUS_FAILED;
      revision.error = control.failure;
    } else {
      revision.proxyAckedAtMs = clock + 500;
    }
    sandbox.revisions.push(revision);
    sandbox.yaml.set(version, yaml);
    return revision;
  }

  /** Back to one Loaded default-policy revision per sandbox, behaviour `load`, no calls. */
  function reset(): void {
    calls.length = 0;
    state.clear();
    control.behaviour = 'load';
    for (const name of sandboxes) {
      const sandbox: SandboxPolicies = { revisions: [], yaml: new Map(), active: 0 };
      state.set(name, sandbox);
      store(sandbox, policyToYaml(DEFAULT_POLICY), hashPolicy(DEFAULT_POLICY));
    }
  }
  reset();

  function activeOf(sandbox: SandboxPolicies) {
    const yaml = sandbox.yaml.get(sandbox.active) ?? '';
    const policy = parsePolicy(yaml, { file: 'active' }).policy ?? DEFAULT_POLICY;
    return { yaml, policy, revision: sandbox.revisions.find((r) => r.version === sandbox.active) };
  }

  const notFound = (name: string) =>
    wireError('ERR_SANDBOX_NOT_FOUND', `Sandbox "${name}" not found.`);

  const handlers: Pick<
    OpenShellServer,
    'getPolicy' | 'setPolicy' | 'updatePolicy' | 'listPolicyRevisions'
  > = {
    getPolicy(call, callback) {
      calls.push({ method: 'getPolicy', request: call.request });
      const sandbox = state.get(call.request.sandbox);
      if (sandbox === undefined) return callback(notFound(call.request.sandbox), null);
      const version = call.request.version ?? sandbox.active;
      const revision = sandbox.revisions.find((r) => r.version === version);
      if (revision === undefined) {
        return callback(wireError('ERR_USAGE', `sandbox has no policy revision ${version}`), null);
      }
      callback(null, {
        revision,
        activeVersion: sandbox.active,
        yaml: sandbox.yaml.get(version) ?? '',
      });
    },
    setPolicy(call, callback) {
      calls.push({ method: 'setPolicy', request: call.request });
      const sandbox = state.get(call.request.sandbox);
      if (sandbox === undefined) return callback(notFound(call.request.sandbox), null);
      const parsed = parsePolicy(call.request.yaml, { file: call.request.fileName ?? 'policy' });
      if (parsed.policy === undefined) {
        const lines = parsed.diagnostics.map(formatDiagnostic).join('\n');
        return callback(wireError('ERR_POLICY_INVALID', `invalid policy:\n${lines}`), null);
      }
      const active = activeOf(sandbox);
      const changes = diffStatic(active.policy, parsed.policy);
      if (changes.length > 0) {
        return callback(
          wireError('ERR_POLICY_STATIC_CHANGE', changes.map((c) => c.message).join('\n')),
          null,
        );
      }
      const hash = hashPolicy(parsed.policy);
      if (active.revision !== undefined && active.revision.hash === hash) {
        return callback(null, { revision: active.revision, unchanged: true, waitTimedOut: false });
      }
      const revision = store(sandbox, policyToYaml(parsed.policy), hash);
      callback(null, {
        revision,
        unchanged: false,
        waitTimedOut: call.request.wait && revision.status === PolicyStatus.POLICY_STATUS_PENDING,
      });
    },
    updatePolicy(call, callback) {
      calls.push({ method: 'updatePolicy', request: call.request });
      const sandbox = state.get(call.request.sandbox);
      if (sandbox === undefined) return callback(notFound(call.request.sandbox), null);
      // The fake does not merge (that is the gateway's logic): it echoes the operations it
      // received into the YAML, which lets a test see them arrive in order.
      const yaml = `${activeOf(sandbox).yaml}# operations: ${JSON.stringify(call.request.operations)}\n`;
      const hash = `${'c'.repeat(56)}${String(sandbox.revisions.length).padStart(8, '0')}`;
      if (call.request.dryRun) {
        return callback(null, {
          revision: {
            version: (sandbox.revisions.at(-1)?.version ?? 0) + 1,
            hash,
            status: PolicyStatus.POLICY_STATUS_UNSPECIFIED,
            createdAtMs: 0,
          },
          unchanged: false,
          waitTimedOut: false,
          yaml,
        });
      }
      const revision = store(sandbox, yaml, hash);
      callback(null, {
        revision,
        unchanged: false,
        waitTimedOut: call.request.wait && revision.status === PolicyStatus.POLICY_STATUS_PENDING,
        yaml,
      });
    },
    listPolicyRevisions(call, callback) {
      calls.push({ method: 'listPolicyRevisions', request: call.request });
      const sandbox = state.get(call.request.sandbox);
      if (sandbox === undefined) return callback(notFound(call.request.sandbox), null);
      callback(null, {
        revisions: [...sandbox.revisions].reverse(),
        activeVersion: sandbox.active,
      });
    },
  };

  return { handlers, calls, control, reset };
}
