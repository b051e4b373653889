import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { readProcessIdentity } from './read-process-identity.js';

interface FakeProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly exe: string;
  readonly pidNs?: string;
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A /proc look-alike: exe and ns/pid symlinks, stat and status files, as the kernel shows them. */
function fakeProc(processes: readonly FakeProcess[]): string {
  const root = mkdtempSync(join(tmpdir(), 'fake-proc-'));
  roots.push(root);
  for (const p of processes) {
    const dir = join(root, String(p.pid));
    mkdirSync(join(dir, 'ns'), { recursive: true });
    symlinkSync(p.exe, join(dir, 'exe'));
    symlinkSync(p.pidNs ?? 'pid:[4026532001]', join(dir, 'ns', 'pid'));
    writeFileSync(join(dir, 'stat'), `${p.pid} (some (name)) S ${p.ppid} ${p.pid} 0 0\n`);
    writeFileSync(join(dir, 'status'), `Name:\tx\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\n`);
  }
  return root;
}

// A sandbox as the local driver builds it: bwrap's init (root) → sandbox-agent on node
// (root) → the user's shell → curl, all in one PID namespace.
const SANDBOX: readonly FakeProcess[] = [
  { pid: 50, ppid: 1, uid: 0, exe: '/usr/bin/bwrap' },
  { pid: 100, ppid: 50, uid: 0, exe: '/usr/bin/node' },
  { pid: 200, ppid: 100, uid: 200017, exe: '/usr/bin/dash' },
  { pid: 300, ppid: 200, uid: 200017, exe: '/usr/bin/curl' },
];

describe('readProcessIdentity ancestor walk', () => {
  test('stops below the supervising agent: a root-owned node is not an ancestor of user processes', () => {
    const identity = readProcessIdentity(fakeProc(SANDBOX), 300);
    expect(identity).toEqual({ pid: 300, exe: '/usr/bin/curl', ancestors: ['/usr/bin/dash'] });
  });

  test('positive control: ancestors of the same uid are all reported, nearest first', () => {
    const sameUid = SANDBOX.map((p) => ({ ...p, uid: 200017 }));
    expect(readProcessIdentity(fakeProc(sameUid), 300)?.ancestors).toEqual([
      '/usr/bin/dash',
      '/usr/bin/node',
      '/usr/bin/bwrap',
    ]);
  });

  test('stops at the PID-namespace boundary even for the same uid', () => {
    const hostParent = SANDBOX.map((p) =>
      p.pid <= 100 ? { ...p, uid: 200017, pidNs: 'pid:[4026531836]' } : p,
    );
    expect(readProcessIdentity(fakeProc(hostParent), 300)?.ancestors).toEqual(['/usr/bin/dash']);
  });

  test('a caller whose status cannot be read is unknown (fail closed)', () => {
    const root = fakeProc(SANDBOX);
    rmSync(join(root, '300', 'status'));
    expect(readProcessIdentity(root, 300)).toBeNull();
  });
});
