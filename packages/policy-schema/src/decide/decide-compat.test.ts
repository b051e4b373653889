import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { compilePolicy, decide, parsePolicy, type DecisionRequest } from '../index.js';

// Five levels up from packages/policy-schema/src/decide/ is /work; the corpus lives in
// /work/shared/compat (CI clones shared/ beside the repository).
const FIXTURE = fileURLToPath(
  new URL(
    '../../../../../shared/compat/openshell-policies/openshell-supervisor-network_testdata_sandbox-policy.yaml',
    import.meta.url,
  ),
);

function loadCompiled() {
  const { policy, diagnostics } = parsePolicy(readFileSync(FIXTURE, 'utf8'), {
    file: 'sandbox-policy.yaml',
  });
  if (policy === undefined) {
    throw new Error(`fixture did not parse: ${JSON.stringify(diagnostics)}`);
  }
  return compilePolicy(policy);
}

const GIT = '/usr/bin/git';
const CURL = '/usr/bin/curl';
const req = (binary: string, method?: string, target?: string): DecisionRequest => ({
  host: 'github.com',
  port: 443,
  binary,
  ...(method === undefined ? {} : { method }),
  ...(target === undefined ? {} : { target }),
});
const REFS = '/org/repo.git/info/refs?service=git-upload-pack';

// OpenShell's supervisor testdata, parsed by our parser, decided by our engine. github.com
// is named by two policies: github_ssh_over_https (rest rules, for git) and copilot (L4,
// for copilot binaries and /usr/bin/node) — curl is in neither.
describe('OpenShell supervisor testdata (sandbox-policy.yaml)', () => {
  const compiled = loadCompiled();

  test.for([
    [
      'git: GET info/refs',
      req(GIT, 'GET', REFS),
      {
        action: 'allow',
        rule: 'GET /**/info/refs*',
        policy: 'github_ssh_over_https',
        policyName: 'github-ssh-over-https',
      },
    ],
    ['curl: GET info/refs', req(CURL, 'GET', REFS), { action: 'deny', layer: 'l4', policy: null }],
    [
      'git: POST git-upload-pack',
      req(GIT, 'POST', '/org/repo.git/git-upload-pack'),
      { action: 'allow', rule: 'POST /**/git-upload-pack' },
    ],
    [
      'git: POST git-receive-pack (push)',
      req(GIT, 'POST', '/org/repo.git/git-receive-pack'),
      {
        action: 'deny',
        layer: 'l7',
        rule: 'POST /org/repo.git/git-receive-pack',
        policy: 'github_ssh_over_https',
      },
    ],
    [
      'git: GET another path',
      req(GIT, 'GET', '/org/repo'),
      { action: 'deny', layer: 'l7', rule: 'GET /org/repo' },
    ],
    [
      'git: HEAD info/refs rides on GET',
      req(GIT, 'HEAD', REFS),
      { action: 'allow', rule: 'GET /**/info/refs*' },
    ],
    ['git: CONNECT is inspected', req(GIT), { action: 'allow', layer: 'l4', inspect: true }],
    ['curl: CONNECT is denied', req(CURL), { action: 'deny', layer: 'l4' }],
    [
      'node (copilot policy): CONNECT, not inspected',
      req('/usr/bin/node'),
      { action: 'allow', policy: 'copilot', inspect: false },
    ],
    [
      'node: any request passes at L4',
      req('/usr/bin/node', 'POST', '/anything'),
      { action: 'allow', layer: 'l4', policy: 'copilot' },
    ],
    [
      'copilot binary glob across segments',
      req('/usr/lib/node_modules/@github/copilot/node_modules/@github/x/y/copilot'),
      { action: 'allow', policy: 'copilot' },
    ],
    [
      'copilot binary glob: * is one segment',
      req('/home/a/b/.local/bin/copilot'),
      { action: 'deny' },
    ],
    [
      'copilot binary glob: * in home',
      req('/home/dev/.local/bin/copilot'),
      { action: 'allow', policy: 'copilot' },
    ],
  ] as const)('%s', ([, request, expected]) => {
    expect(decide(compiled, request)).toMatchObject(expected);
  });

  test('the binary-miss reason names the policies that would allow the host', () => {
    const { reason } = decide(compiled, req(CURL));
    expect(reason).toContain('binary /usr/bin/curl is not listed for github.com:443');
    expect(reason).toContain('policy github_ssh_over_https allows: /usr/bin/git');
    expect(reason).toContain('policy copilot allows:');
  });

  test('claude spawning node reaches api.anthropic.com through its ancestor', () => {
    const decision = decide(compiled, {
      host: 'api.anthropic.com',
      port: 443,
      binary: '/usr/bin/python3',
      ancestors: ['/usr/local/bin/claude'],
    });
    expect(decision).toMatchObject({ action: 'allow', matchedBinary: '/usr/local/bin/claude' });
  });
});
