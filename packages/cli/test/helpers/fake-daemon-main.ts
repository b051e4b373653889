import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeGateway } from './fake-gateway.js';
import { makeTestCerts } from './test-certs.js';

/**
 * Behaves like the daemon per gateway-wire.md: PKI under <state>/gateway/pki, the state file
 * with its pid once listening (removed on SIGTERM), argv recorded in <state>/argv.json for
 * assertions. It listens on a free port whatever --port says, so tests never collide with a
 * real gateway on 17670. FAKE_DAEMON_FAIL=1 makes it print an error and exit 1 first.
 */
const { values } = parseArgs({
  options: {
    'state-dir': { type: 'string' },
    port: { type: 'string' },
    'http-port': { type: 'string' },
    driver: { type: 'string' },
    resolve: { type: 'string', multiple: true },
    'upstream-ca': { type: 'string' },
  },
});
const stateDir = values['state-dir'] ?? '.';
const gatewayDir = join(stateDir, 'gateway');
const pki = join(gatewayDir, 'pki');
await mkdir(pki, { recursive: true });
await writeFile(join(stateDir, 'argv.json'), JSON.stringify(process.argv.slice(2)));
if (process.env['FAKE_DAEMON_FAIL'] === '1') {
  console.error('fatal: cannot bind 127.0.0.1:17670: address already in use');
  process.exit(1);
}
console.log('fake daemon starting');
const certs = await makeTestCerts(pki);
const gateway = await startFakeGateway({ certs });
const stateFile = join(gatewayDir, 'gateway.json');
await writeFile(
  stateFile,
  JSON.stringify({
    pid: process.pid,
    version: '0.1.0-fake',
    grpcEndpoint: gateway.endpoint,
    httpEndpoint: 'http://127.0.0.1:1',
    startedAtMs: Date.now(),
    driver: values.driver ?? 'local',
  }),
);
console.log(`fake daemon listening on ${gateway.endpoint}`);
process.on('SIGTERM', () => {
  void (async () => {
    await rm(stateFile, { force: true });
    await gateway.close();
    process.exit(0);
  })();
});
