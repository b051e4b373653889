import {
  ACCESS_PRESET_METHODS,
  OpenShellError,
  policyToYaml,
  type Policy,
} from '@openshell/policy-schema';
import type { PolicyOperation } from '@openshell/proto';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function endpointMatches(endpoint: unknown, host: string, port: number): boolean {
  if (!isRecord(endpoint)) return false;
  if (String(endpoint['host']).toLowerCase() !== host.toLowerCase()) return false;
  const ports = Array.isArray(endpoint['ports']) ? endpoint['ports'] : [endpoint['port']];
  return ports.some((p) => Number(p) === port);
}

/** A rule id derived from host and port: `api_github_com_443`. */
export function derivePolicyId(host: string, port: number): string {
  return `${host
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')}_${String(port)}`;
}

function findEndpoint(
  policies: Raw,
  host: string,
  port: number,
): { endpoint: Raw; policy: Raw } | undefined {
  for (const policy of Object.values(policies)) {
    if (!isRecord(policy) || !Array.isArray(policy['endpoints'])) continue;
    for (const endpoint of policy['endpoints']) {
      if (endpointMatches(endpoint, host, port) && isRecord(endpoint)) return { endpoint, policy };
    }
  }
  return undefined;
}

function toRules(endpoint: Raw): unknown[] {
  const access = endpoint['access'];
  if (typeof access === 'string') {
    // `access` and `rules` are exclusive: a first explicit rule turns the preset into rules.
    const methods = ACCESS_PRESET_METHODS[access as keyof typeof ACCESS_PRESET_METHODS] ?? [];
    delete endpoint['access'];
    endpoint['rules'] = methods.map((method) => ({ allow: { method, path: '**' } }));
  }
  if (!Array.isArray(endpoint['rules'])) endpoint['rules'] = [];
  endpoint['protocol'] ??= 'rest';
  return endpoint['rules'] as unknown[];
}

/**
 * Applies `policy update` operations, in order, to the YAML form of `policy` and returns the
 * edited YAML text. The result is NOT validated here: the caller parses it with policy-schema,
 * so an update gets exactly the diagnostics a policy file would. Fails (nothing applied) when
 * an operation names an endpoint that does not exist.
 */
export function applyPolicyOperations(
  policy: Policy,
  operations: readonly PolicyOperation[],
): string {
  const doc = parseYaml(policyToYaml(policy)) as Raw;
  if (!isRecord(doc['network_policies'])) doc['network_policies'] = {};
  const policies = doc['network_policies'] as Raw;
  for (const operation of operations) {
    const op = operation.op;
    if (op === undefined) continue;
    switch (op.$case) {
      case 'addEndpoint': {
        const { host, port, access, protocol, enforcement, binaries } = op.value;
        const id = op.value.policy ?? derivePolicyId(host, port);
        const endpoint: Raw = { host, port };
        if (access !== undefined) endpoint['access'] = access;
        if (protocol !== undefined) endpoint['protocol'] = protocol;
        if (enforcement !== undefined) endpoint['enforcement'] = enforcement;
        const existing = policies[id];
        if (isRecord(existing)) {
          const endpoints: unknown[] = Array.isArray(existing['endpoints'])
            ? (existing['endpoints'] as unknown[])
            : [];
          existing['endpoints'] = [
            ...endpoints.filter((e) => !endpointMatches(e, host, port)),
            endpoint,
          ];
          const known: unknown[] = Array.isArray(existing['binaries'])
            ? (existing['binaries'] as unknown[])
            : [];
          const paths = new Set(known.map((b) => (isRecord(b) ? String(b['path']) : '')));
          existing['binaries'] = [
            ...known,
            ...binaries.filter((path) => !paths.has(path)).map((path) => ({ path })),
          ];
        } else {
          if (binaries.length === 0) {
            throw new OpenShellError(
              'ERR_USAGE',
              `--add-endpoint ${host}:${String(port)} creates policy "${id}", which needs --binary PATH (the programs allowed to use it; /** = any)`,
            );
          }
          policies[id] = {
            name: id,
            endpoints: [endpoint],
            binaries: binaries.map((path) => ({ path })),
          };
        }
        break;
      }
      case 'removeEndpoint': {
        const { host, port } = op.value;
        let removed = 0;
        for (const [id, policy] of Object.entries(policies)) {
          if (!isRecord(policy) || !Array.isArray(policy['endpoints'])) continue;
          const kept = policy['endpoints'].filter((e) => !endpointMatches(e, host, port));
          removed += policy['endpoints'].length - kept.length;
          if (kept.length === 0) delete policies[id];
          else policy['endpoints'] = kept;
        }
        if (removed === 0) {
          throw new OpenShellError(
            'ERR_USAGE',
            `--remove-endpoint ${host}:${String(port)}: no such endpoint in the active policy (see \`openshell policy get --full\`)`,
          );
        }
        break;
      }
      case 'addAllow':
      case 'addDeny': {
        const { host, port, method, path } = op.value;
        const found = findEndpoint(policies, host, port);
        const flag = op.$case === 'addAllow' ? '--add-allow' : '--add-deny';
        if (found === undefined) {
          throw new OpenShellError(
            'ERR_USAGE',
            `${flag} ${host}:${String(port)}: no such endpoint in the active policy; add it first with --add-endpoint`,
          );
        }
        if (op.$case === 'addAllow') {
          toRules(found.endpoint).push({ allow: { method, path } });
        } else {
          found.endpoint['protocol'] ??= 'rest';
          const denies: unknown[] = Array.isArray(found.endpoint['deny_rules'])
            ? (found.endpoint['deny_rules'] as unknown[])
            : [];
          found.endpoint['deny_rules'] = [...denies, { method, path }];
        }
        break;
      }
    }
  }
  return toYaml(doc);
}
