import { ACCESS_PRESET_METHODS, OpenShellError } from '@openshell/policy-schema';

/** The four `policy update` flags whose order matters (operations apply in the order given). */
export const UPDATE_OP_FLAGS = [
  'add-endpoint',
  'remove-endpoint',
  'add-allow',
  'add-deny',
] as const;
export type UpdateOpFlag = (typeof UPDATE_OP_FLAGS)[number];

export interface UpdateOpToken {
  readonly flag: UpdateOpFlag;
  readonly value: string;
}

// Structurally the generated PolicyOperation (proto/openshell/v1/gateway.proto), so the
// parser stays a pure function testable without a gateway.
export interface AddEndpointOp {
  host: string;
  port: number;
  access?: string;
  protocol?: string;
  enforcement?: string;
  binaries: string[];
  policy?: string;
}
export interface HostPortOp {
  host: string;
  port: number;
}
export interface HttpRuleOp extends HostPortOp {
  method: string;
  path: string;
}
export type UpdateOperation =
  | { op: { $case: 'addEndpoint'; value: AddEndpointOp } }
  | { op: { $case: 'removeEndpoint'; value: HostPortOp } }
  | { op: { $case: 'addAllow'; value: HttpRuleOp } }
  | { op: { $case: 'addDeny'; value: HttpRuleOp } };

export interface UpdateOpOptions {
  /** `--binary PATH`, applied to every `--add-endpoint` (as in OpenShell). */
  readonly binaries: readonly string[];
  /** `--policy-id ID`: the network policy the endpoints are added to. */
  readonly policyId?: string | undefined;
}

const FORMS: Readonly<Record<UpdateOpFlag, string>> = {
  'add-endpoint': 'host:port[:access[:protocol[:enforcement]]]',
  'remove-endpoint': 'host:port',
  'add-allow': 'host:port:METHOD:glob',
  'add-deny': 'host:port:METHOD:glob',
};

// Closed vocabularies of the policy file (REFERENCE.md "Policy file"). The gateway validates
// the resulting policy again with policy-schema; checking here only makes the error name the
// flag instead of a line of a policy the user never wrote.
const ACCESS = Object.keys(ACCESS_PRESET_METHODS);
const PROTOCOLS = ['rest'];
const ENFORCEMENTS = ['enforce', 'audit'];
const METHOD_TOKEN = /^(\*|[!#$%&'+\-.^_`|~0-9A-Za-z]+)$/;
const POLICY_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Builds UpdatePolicyRequest.operations from the flags, in command-line order; throws ERR_USAGE naming the flag. */
export function parseUpdateOperations(
  tokens: readonly UpdateOpToken[],
  options: UpdateOpOptions,
): UpdateOperation[] {
  const hasAddEndpoint = tokens.some((t) => t.flag === 'add-endpoint');
  for (const binary of options.binaries) {
    if (!binary.startsWith('/')) {
      throw usage(
        `--binary ${binary}: must be an absolute path, e.g. /usr/bin/curl (globs allowed)`,
      );
    }
  }
  if (!hasAddEndpoint && options.binaries.length > 0) {
    throw usage('--binary applies to --add-endpoint; give at least one --add-endpoint');
  }
  if (options.policyId !== undefined) {
    if (!hasAddEndpoint) throw usage('--policy-id applies to --add-endpoint; give at least one');
    if (options.policyId.startsWith('_provider_') || !POLICY_ID.test(options.policyId)) {
      throw usage(
        `--policy-id ${options.policyId}: expected a network policy id such as "github_api" (letters, digits, "_", "-", "."; "_provider_" is reserved)`,
      );
    }
  }
  if (tokens.length === 0) {
    throw usage(
      'nothing to update — give --add-endpoint, --remove-endpoint, --add-allow or --add-deny',
    );
  }
  return tokens.map((token) => parseToken(token, options));
}

function parseToken(token: UpdateOpToken, options: UpdateOpOptions): UpdateOperation {
  const fail = (why: string): OpenShellError =>
    usage(`--${token.flag} ${token.value}: ${why} (expected ${FORMS[token.flag]})`);
  const { host, port, rest } = splitHostPort(token.value, fail);
  switch (token.flag) {
    case 'add-endpoint': {
      if (rest.length > 3) throw fail('too many ":"-separated parts');
      const [access, protocol, enforcement] = rest;
      const value: AddEndpointOp = { host, port, binaries: [...options.binaries] };
      if (access !== undefined && access !== '') {
        if (!ACCESS.includes(access)) throw fail(`access must be one of ${ACCESS.join(', ')}`);
        value.access = access;
      }
      if (protocol !== undefined && protocol !== '') {
        if (!PROTOCOLS.includes(protocol)) {
          throw fail(`protocol must be ${PROTOCOLS.join(', ')} (leave it out for L4 only)`);
        }
        value.protocol = protocol;
      }
      if (enforcement !== undefined && enforcement !== '') {
        if (!ENFORCEMENTS.includes(enforcement)) {
          throw fail(`enforcement must be one of ${ENFORCEMENTS.join(', ')}`);
        }
        value.enforcement = enforcement;
      }
      if (options.policyId !== undefined) value.policy = options.policyId;
      return { op: { $case: 'addEndpoint', value } };
    }
    case 'remove-endpoint':
      if (rest.length > 0) throw fail('unexpected text after the port');
      return { op: { $case: 'removeEndpoint', value: { host, port } } };
    case 'add-allow':
    case 'add-deny': {
      const [method, ...pathParts] = rest;
      // The glob is everything after METHOD: a path may itself contain ":".
      const path = pathParts.join(':');
      if (method === undefined || method === '') throw fail('METHOD is missing');
      if (!METHOD_TOKEN.test(method)) throw fail(`${JSON.stringify(method)} is not an HTTP method`);
      if (path === '') throw fail('the path glob is missing');
      if (!path.startsWith('/') && path !== '**') {
        throw fail('the path glob must start with "/", e.g. /repos/**');
      }
      const value = { host, port, method: method === '*' ? method : method.toUpperCase(), path };
      return token.flag === 'add-allow'
        ? { op: { $case: 'addAllow', value } }
        : { op: { $case: 'addDeny', value } };
    }
  }
}

/** `host:port:rest...`, with `[v6]:port` for IPv6 literals. */
function splitHostPort(
  text: string,
  fail: (why: string) => OpenShellError,
): { host: string; port: number; rest: string[] } {
  let host: string;
  let after: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw fail('unterminated "[" in an IPv6 address');
    host = text.slice(1, close);
    after = text.slice(close + 1);
    if (!after.startsWith(':')) throw fail('the port is missing');
    after = after.slice(1);
  } else {
    const colon = text.indexOf(':');
    if (colon < 0) throw fail('the port is missing');
    host = text.slice(0, colon);
    after = text.slice(colon + 1);
  }
  if (host === '') throw fail('the host is missing');
  if (/^[a-z][a-z0-9+.-]*$/i.test(host) && after.startsWith('//')) {
    throw fail('write the host name, not a URL');
  }
  const [portText = '', ...rest] = after.split(':');
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw fail(`port ${JSON.stringify(portText)} is not 1..65535`);
  return { host: host.toLowerCase(), port, rest };
}

function usage(message: string): OpenShellError {
  return new OpenShellError('ERR_USAGE', message);
}
