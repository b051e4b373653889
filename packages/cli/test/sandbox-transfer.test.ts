import { lstat, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { makeCliEnv } from './helpers/cli-env.js';
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js';
import { makeTestCerts } from './helpers/test-certs.js';
import { runCli } from './run-cli.js';

vi.setConfig({ testTimeout: 90_000 });

async function hostileTar(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'ok.txt', mode: 0o644 }, 'fine');
  pack.entry({ name: '../escaped.txt', mode: 0o644 }, 'pwned');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let gateway: FakeGateway;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  const certs = await makeTestCerts(await mkdtemp(join(tmpdir(), 'openshell-certs-')));
  gateway = await startFakeGateway({
    certs,
    rawDownloads: { '/sandbox/evil': await hostileTar() },
  });
  const made = await makeCliEnv();
  env = made.env;
  await gateway.writeConfig(made.configDir);
  gateway.seed('demo');
});
afterAll(async () => {
  await gateway.close();
});

test('upload honours .gitignore, download brings the same tree back', async () => {
  const work = await mkdtemp(join(tmpdir(), 'openshell-transfer-'));
  const src = join(work, 'proj');
  await mkdir(join(src, 'lib'), { recursive: true });
  await writeFile(join(src, '.gitignore'), 'secret.env\n');
  await writeFile(join(src, 'main.py'), 'print("hi")\n');
  await writeFile(join(src, 'lib/util.py'), 'X = 1\n');
  await writeFile(join(src, 'secret.env'), 'TOKEN=abc\n');

  const up = await runCli(['sandbox', 'upload', 'demo', src, '/sandbox/work'], { env });
  expect(up.code).toBe(0);
  expect(up.stderr).toMatch(/^✓ Uploaded 5 entries \(\d+ bytes\) to demo:\/sandbox\/work\n$/);
  const remote = gateway.files.get('demo');
  expect([...(remote?.keys() ?? [])].sort()).toEqual([
    '/sandbox/work/proj',
    '/sandbox/work/proj/.gitignore',
    '/sandbox/work/proj/lib',
    '/sandbox/work/proj/lib/util.py',
    '/sandbox/work/proj/main.py',
  ]);

  const out = join(work, 'out');
  const down = await runCli(['sandbox', 'download', 'demo', '/sandbox/work/proj', out], { env });
  expect(down.code).toBe(0);
  expect(down.stderr).toMatch(
    /^✓ Downloaded 5 entries \(\d+ bytes\) from demo:\/sandbox\/work\/proj to /,
  );
  expect(await readFile(join(out, 'proj/main.py'), 'utf8')).toBe('print("hi")\n');
  expect(await readFile(join(out, 'proj/lib/util.py'), 'utf8')).toBe('X = 1\n');
  await expect(lstat(join(out, 'proj/secret.env'))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('a download entry escaping DEST is refused (exit 1) and nothing lands outside', async () => {
  const work = await mkdtemp(join(tmpdir(), 'openshell-transfer-'));
  const out = join(work, 'out');
  const r = await runCli(['sandbox', 'download', 'demo', '/sandbox/evil', out], { env });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('refusing archive entry "../escaped.txt": path escapes with ".."');
  await expect(lstat(join(work, 'escaped.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('upload to an unknown sandbox suggests the close name', async () => {
  const work = await mkdtemp(join(tmpdir(), 'openshell-transfer-'));
  await writeFile(join(work, 'f.txt'), 'x');
  const r = await runCli(['sandbox', 'upload', 'dmeo', join(work, 'f.txt')], { env });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('Sandbox "dmeo" not found. Did you mean "demo"?');
});
