import { Action, SandboxPhase } from '@openshell/proto';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterEach, describe, expect, test } from 'vitest';
import { TermApp, type TermAppProps } from './term-app.js';
import { FakeTermGateway, makeDecision, makeSandbox } from './test-helpers/fake-term-gateway.js';

const KEYS = {
  down: '\u001b[B',
  up: '\u001b[A',
  enter: '\r',
  escape: '\u001b',
  ctrlC: '\u0003',
  backspace: '\u007f',
};
const NOW = 1_000_000 + 125_000;
let mounted: ReturnType<typeof render> | undefined;

afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
});

function mount(gateway: FakeTermGateway, props: Partial<TermAppProps> = {}) {
  mounted = render(
    createElement(TermApp, {
      gateway,
      color: false,
      size: { columns: 80, rows: 24 },
      now: () => NOW,
      reconnect: {
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
        minDelayMs: 10,
      },
      ...props,
    }),
  );
  return mounted;
}

function frame(): string {
  return mounted?.lastFrame() ?? '';
}

async function until(check: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline) {
    if (check(frame())) return frame();
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; last frame:\n${frame()}`);
}

async function type(...inputs: string[]): Promise<void> {
  for (const input of inputs) {
    mounted?.stdin.write(input);
    // Let ink's input handler and React's state update run before the next key.
    await new Promise((r) => setTimeout(r, 15));
  }
}

function twoSandboxes(): FakeTermGateway {
  const gateway = new FakeTermGateway();
  gateway.upsert(
    makeSandbox('alpha', {
      decisions: { allowed: 12, denied: 3, audited: 0 },
      currentPolicyVersion: 2,
    }),
  );
  gateway.upsert(
    makeSandbox('beta', { createdAtMs: 1_000_500, phase: SandboxPhase.SANDBOX_PHASE_PROVISIONING }),
  );
  gateway.policies.set('alpha', Array.from({ length: 40 }, (_, i) => `line${i}: value`).join('\n'));
  return gateway;
}

describe('sandboxes panel', () => {
  test('lists name, phase, age, policy version and counts, and fits 80×24', async () => {
    mount(twoSandboxes());
    const text = await until((t) => t.includes('beta'), 'the sandboxes');
    expect(text).toMatch(/> alpha +Ready +2m5s +v2 +12 +3/);
    expect(text).toMatch(/ {2}beta +Provisioning +2m4s +v1 +0 +0/);
    expect(text).toContain('● connected');
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  test('follows creations, updates and deletions made elsewhere', async () => {
    const gateway = twoSandboxes();
    mount(gateway);
    await until((t) => t.includes('beta'), 'the sandboxes');
    gateway.upsert(makeSandbox('gamma', { createdAtMs: 1_001_000 }));
    await until((t) => /gamma +Ready/.test(t), 'gamma to appear');
    gateway.upsert(
      makeSandbox('beta', {
        createdAtMs: 1_000_500,
        decisions: { allowed: 1, denied: 9, audited: 0 },
      }),
    );
    await until((t) => /beta +Ready +\S+ +v1 +1 +9/.test(t), 'beta to update');
    await gateway.deleteSandbox('gamma');
    const text = await until((t) => !t.includes('gamma'), 'gamma to go');
    expect(text).toContain('Sandboxes (2)');
  });

  test('allowed/denied counts rise live as decisions arrive, for any sandbox', async () => {
    const gateway = twoSandboxes();
    mount(gateway);
    await until((t) => t.includes('beta'), 'the sandboxes');
    gateway.log('beta', makeDecision('beta', Action.ACTION_DENY, 'example.com'));
    gateway.log('beta', makeDecision('beta', Action.ACTION_ALLOW, 'api.github.com'));
    gateway.log('alpha', makeDecision('alpha', Action.ACTION_DENY, 'example.com'));
    const text = await until((t) => /beta +\S+ +\S+ +v1 +1 +1/.test(t), 'beta counts');
    expect(text).toMatch(/alpha +Ready +\S+ +v2 +12 +4/);
    // The next record carries the gateway's own count, which replaces the local tally.
    gateway.upsert(
      makeSandbox('beta', {
        createdAtMs: 1_000_500,
        decisions: { allowed: 1, denied: 1, audited: 0 },
      }),
    );
    await until((t) => /beta +Ready +\S+ +v1 +1 +1/.test(t), 'beta record');
  });

  test('says so when there are none yet', async () => {
    mount(new FakeTermGateway());
    await until((t) => t.includes('No sandboxes yet'), 'the empty message');
  });

  test('j/k and arrows move the selection, Enter shows its details', async () => {
    mount(twoSandboxes());
    await until((t) => t.includes('beta'), 'the sandboxes');
    await type('j');
    await until((t) => t.includes('> beta'), 'beta selected');
    await type(KEYS.up);
    await until((t) => t.includes('> alpha'), 'alpha selected');
    await type(KEYS.down, KEYS.enter);
    const text = await until((t) => t.includes('Details: beta'), 'beta details');
    expect(text).toMatch(/Phase +Provisioning/);
    expect(text).toMatch(/Id +id-beta/);
  });
});

describe('details and policy panes', () => {
  test('details show the decision counts and policy version', async () => {
    mount(twoSandboxes());
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type(KEYS.enter);
    const text = await until((t) => t.includes('Details: alpha'), 'details');
    expect(text).toMatch(/Decisions +12 allowed, 3 denied, 0 audited/);
    expect(text).toMatch(/Policy +v2/);
  });

  test('p shows the effective policy and j/k scroll it', async () => {
    const gateway = twoSandboxes();
    mount(gateway);
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type('p');
    let text = await until((t) => t.includes('line0: value'), 'the policy');
    expect(text).toContain('Policy: alpha');
    await type('j', 'j', 'j');
    text = await until((t) => !t.includes('line0:'), 'the policy to scroll');
    expect(text).toContain('line3: value');
    await type('k');
    await until((t) => t.includes('line2: value'), 'the policy to scroll back');
  });

  test('a policy that cannot be read shows why', async () => {
    mount(twoSandboxes());
    await until((t) => t.includes('beta'), 'the sandboxes');
    await type('j', 'p');
    await until((t) => t.includes('no policy for beta'), 'the policy error');
  });
});

describe('decision log', () => {
  test('l shows backlog then live entries, newest at the bottom', async () => {
    const gateway = twoSandboxes();
    gateway.log('alpha', makeDecision('alpha', Action.ACTION_ALLOW, 'api.github.com'));
    mount(gateway);
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type('l');
    await until((t) => t.includes('api.github.com'), 'the backlog');
    gateway.log('alpha', makeDecision('alpha', Action.ACTION_DENY, 'example.com'));
    const text = await until((t) => t.includes('example.com'), 'the live deny');
    const lines = text.split('\n');
    const allow = lines.findIndex((l) => l.includes('api.github.com'));
    const deny = lines.findIndex((l) => l.includes('example.com:443'));
    expect(deny).toBeGreaterThan(allow);
    expect(lines[deny]).toMatch(
      /^\d\d:\d\d:\d\d {2}DENY {3}\/usr\/bin\/curl → example\.com:443 {2}CONNECT/,
    );
    expect(text).toContain('[follow]');
  });

  test('thousands of lines render only the visible page, following the newest', async () => {
    const gateway = twoSandboxes();
    for (let i = 0; i < 5_000; i += 1) {
      gateway.log('alpha', makeDecision('alpha', Action.ACTION_ALLOW, `host${i}.test`));
    }
    mount(gateway, { logCapacity: 3_000 });
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type('l');
    const text = await until((t) => t.includes('host4999.test'), 'the newest line');
    expect(text).toContain('3000/3000');
    // 24 rows less the header, two sandbox rows, titles and footer leave 16 for the log.
    expect(text.split('\n').filter((l) => l.includes('.test:443')).length).toBe(16);
    await type('k', 'k');
    const paused = await until((t) => t.includes('[paused]'), 'follow to pause');
    expect(paused).not.toContain('host4999.test');
    expect(paused).toContain('host4997.test');
    await type('f');
    await until((t) => t.includes('[follow]') && t.includes('host4999.test'), 'follow to resume');
  });

  test('a filters by action and / by text', async () => {
    const gateway = twoSandboxes();
    gateway.log('alpha', makeDecision('alpha', Action.ACTION_ALLOW, 'api.github.com'));
    gateway.log('alpha', makeDecision('alpha', Action.ACTION_DENY, 'example.com'));
    gateway.log('alpha', makeDecision('alpha', Action.ACTION_DENY, 'evil.test'));
    mount(gateway);
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type('l');
    await until((t) => t.includes('evil.test'), 'the log');
    await type('a');
    let text = await until((t) => t.includes('action=deny'), 'the deny filter');
    expect(text).not.toContain('api.github.com');
    expect(text).toContain('example.com:443');
    expect(text).toContain('2/3');
    await type('/', 'e', 'v', 'i', 'x', KEYS.backspace);
    await until((t) => t.includes('/evi'), 'the filter prompt');
    await type(KEYS.enter);
    text = await until((t) => t.includes('text="evi"'), 'the text filter');
    expect(text).not.toContain('example.com:443');
    expect(text).toContain('evil.test:443');
    expect(text).toContain('1/3');
  });
});

describe('keys', () => {
  test('d asks, n keeps the sandbox, y deletes it', async () => {
    const gateway = twoSandboxes();
    mount(gateway);
    await until((t) => t.includes('beta'), 'the sandboxes');
    await type('j', 'd');
    await until((t) => t.includes('Delete sandbox beta? (y/n)'), 'the confirm prompt');
    await type('n');
    await until((t) => !t.includes('Delete sandbox'), 'the prompt to close');
    expect(gateway.deleted).toEqual([]);
    await type('d', 'y');
    const text = await until((t) => t.includes('Sandboxes (1)'), 'beta to go');
    expect(gateway.deleted).toEqual(['beta']);
    expect(text).toContain('Deleted beta');
    await type('x');
    await until(
      (t) => t.includes('? help · q quit') && !t.includes('Deleted beta'),
      'the key hints',
    );
  });

  test('? shows the help overlay and any key closes it', async () => {
    mount(twoSandboxes());
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type('?');
    const text = await until((t) => t.includes('Keys'), 'help');
    expect(text).toMatch(/d +delete the selected sandbox/);
    await type('x');
    await until((t) => !t.includes('this help'), 'help to close');
  });

  test.each([
    ['q', 'q'],
    ['Ctrl-C', KEYS.ctrlC],
  ])('%s exits the app', async (_name, key) => {
    let quits = 0;
    const app = mount(twoSandboxes(), { onQuit: () => (quits += 1) });
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type(key);
    const deadline = Date.now() + 3_000;
    while (quits === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(quits).toBe(1);
    app.unmount();
  });

  test('j still moves when the app has not quit (control for the quit test)', async () => {
    mount(twoSandboxes());
    await until((t) => t.includes('alpha'), 'the sandboxes');
    await type('x', 'j');
    await until((t) => t.includes('> beta'), 'beta selected');
  });
});

describe('gateway outages', () => {
  test('unreachable at start: a message instead of a crash, then the view once it answers', async () => {
    const gateway = twoSandboxes();
    gateway.setDown(true);
    mount(gateway);
    const text = await until((t) => t.includes('Gateway unreachable'), 'the outage message');
    expect(text).toContain('cannot reach the gateway at test:1');
    gateway.setDown(false);
    await until((t) => t.includes('beta') && t.includes('● connected'), 'the reconnect');
  });

  test('a gateway that goes away mid-session is re-watched and missed deletions disappear', async () => {
    const gateway = twoSandboxes();
    mount(gateway);
    await until((t) => t.includes('beta'), 'the sandboxes');
    gateway.setDown(true);
    await until((t) => t.includes('unreachable'), 'the outage');
    gateway.sandboxes.delete('beta');
    gateway.setDown(false);
    await until((t) => t.includes('● connected') && !t.includes('beta'), 'the resync');
    expect(gateway.watchAttempts).toBeGreaterThanOrEqual(2);
  });
});

describe('colour', () => {
  test('colour on paints phases; NO_COLOR (color=false) prints no escape codes', async () => {
    mount(twoSandboxes(), { color: false });
    const plain = await until((t) => t.includes('beta'), 'the sandboxes');
    expect(plain).not.toContain('\u001b[');
  });
});
