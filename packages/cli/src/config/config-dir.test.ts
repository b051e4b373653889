import { mkdtemp, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  gatewayConfigDir,
  readActiveGateway,
  readGatewayCredentials,
  readGatewayMetadata,
  readLastSandbox,
  resolveConfigDir,
  writeGatewayCredentials,
  writeGatewayMetadata,
  writeLastSandbox,
} from './config-dir.js';

test('OPENSHELL_CONFIG_DIR wins over ~/.config/openshell', () => {
  expect(resolveConfigDir({ OPENSHELL_CONFIG_DIR: '/x/y' })).toBe('/x/y');
  expect(resolveConfigDir({})).toMatch(/\/\.config\/openshell$/);
});

test('round trip: metadata, credentials 0600 in a 0700 dir, last sandbox; defaults when absent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'openshell-config-'));
  expect(await readActiveGateway(dir)).toBe('local');
  expect(await readGatewayMetadata('local', dir)).toBeUndefined();
  expect(await readGatewayCredentials('local', dir)).toBeUndefined();
  expect(await readLastSandbox('local', dir)).toBeUndefined();
  await writeGatewayMetadata(
    { name: 'local', endpoint: 'https://127.0.0.1:17670', stateDir: '/s' },
    dir,
  );
  const creds = { ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key') };
  await writeGatewayCredentials('local', creds, dir);
  await writeLastSandbox('local', 'demo', dir);
  expect(await readGatewayMetadata('local', dir)).toEqual({
    name: 'local',
    endpoint: 'https://127.0.0.1:17670',
    stateDir: '/s',
  });
  expect(await readGatewayCredentials('local', dir)).toEqual(creds);
  expect(await readLastSandbox('local', dir)).toBe('demo');
  const gw = gatewayConfigDir('local', dir);
  expect((await stat(gw)).mode & 0o777).toBe(0o700);
  for (const f of ['ca.pem', 'client.pem', 'client.key', 'metadata.json']) {
    expect((await stat(join(gw, f))).mode & 0o777).toBe(0o600);
  }
});

test('a gateway name cannot climb out of gateways/; broken metadata is a clear error', async () => {
  expect(() => gatewayConfigDir('../etc', '/c')).toThrow(
    expect.objectContaining({ code: 'ERR_USAGE' }),
  );
  expect(gatewayConfigDir('prod-1', '/c')).toBe('/c/gateways/prod-1');
  const dir = await mkdtemp(join(tmpdir(), 'openshell-config-'));
  await mkdir(join(dir, 'gateways/bad'), { recursive: true });
  await writeFile(join(dir, 'gateways/bad/metadata.json'), '{nope');
  await expect(readGatewayMetadata('bad', dir)).rejects.toMatchObject({
    code: 'ERR_INPUT_UNREADABLE',
  });
});
