import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEngineClient, describeEngine, parseDockerHost } from './engine-client.js';

// A real HTTP server on a real unix socket stands in for the engine.
let dir: string;
let server: Server;
const seen: { method: string; url: string; body: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openshell-engine-'));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (req.url === '/version') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"Version":"4.3.1","ApiVersion":"1.41"}');
      } else if (req.url === '/containers/missing/json') {
        res.writeHead(404).end('{"message":"no such container"}');
      } else if (req.url === '/containers/broken/start') {
        res.writeHead(500).end('{"message":"runc failed"}');
      } else if (req.url === '/containers/create') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"Id":"abc"}');
      } else if (req.url === '/containers/x/start') {
        res.writeHead(204).end();
      } else {
        res.writeHead(200).end(`echo:${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(join(dir, 'engine.sock'), resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('createEngineClient', () => {
  test('JSON answers are parsed; an empty 204 is undefined', async () => {
    const client = createEngineClient(join(dir, 'engine.sock'));
    await expect(client.json('GET', '/version')).resolves.toEqual({
      Version: '4.3.1',
      ApiVersion: '1.41',
    });
    await expect(client.json('POST', '/containers/x/start')).resolves.toBeUndefined();
  });

  test('404 is ERR_SANDBOX_NOT_FOUND, other failures ERR_COMPUTE_DRIVER_FAILED with the message', async () => {
    const client = createEngineClient(join(dir, 'engine.sock'));
    await expect(client.json('GET', '/containers/missing/json')).rejects.toMatchObject({
      code: 'ERR_SANDBOX_NOT_FOUND',
    });
    await expect(client.json('POST', '/containers/broken/start')).rejects.toMatchObject({
      code: 'ERR_COMPUTE_DRIVER_FAILED',
      message: expect.stringContaining('500: runc failed') as unknown,
    });
  });

  test('uploads stream the body; request bodies arrive as JSON', async () => {
    const client = createEngineClient(join(dir, 'engine.sock'));
    await expect(
      client.upload('/build', Readable.from(['ab', 'cd']), 'application/x-tar'),
    ).resolves.toBe('echo:abcd');
    await expect(client.json('POST', '/containers/create', { Image: 'i' })).resolves.toEqual({
      Id: 'abc',
    });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"Image":"i"}' });
  });

  test('a 2xx answer that is not JSON is a driver failure quoting it, not a crash', async () => {
    const client = createEngineClient(join(dir, 'engine.sock'));
    await expect(client.json('POST', '/other', { a: 1 })).rejects.toMatchObject({
      code: 'ERR_COMPUTE_DRIVER_FAILED',
      message: expect.stringContaining('non-JSON: echo:{"a":1}') as unknown,
    });
  });

  test('a socket nobody listens on is ERR_HOST_UNSUPPORTED with how to start the engine', async () => {
    const client = createEngineClient(join(dir, 'nobody.sock'));
    await expect(client.json('GET', '/version')).rejects.toMatchObject({
      code: 'ERR_HOST_UNSUPPORTED',
      message: expect.stringContaining('podman system service') as unknown,
    });
  });
});

describe('parseDockerHost and describeEngine', () => {
  test.for([
    { host: 'unix:///run/podman/podman.sock', expected: '/run/podman/podman.sock' },
    { host: '/var/run/docker.sock', expected: '/var/run/docker.sock' },
  ])('$host → $expected', ({ host, expected }) => {
    expect(parseDockerHost(host)).toBe(expected);
  });

  test('tcp:// engines are refused: the install could not be bound into their containers', () => {
    expect(() => parseDockerHost('tcp://10.0.0.1:2375')).toThrow('not a unix socket');
  });

  test('names Podman from its component list, Docker otherwise', () => {
    expect(
      describeEngine({
        Version: '4.3.1',
        ApiVersion: '1.41',
        Components: [{ Name: 'Podman Engine', Version: '4.3.1' }],
      }),
    ).toBe('Podman Engine 4.3.1, API 1.41');
    expect(describeEngine({ Version: '27.1.0', ApiVersion: '1.46' })).toBe(
      'Docker Engine 27.1.0, API 1.46',
    );
  });
});
