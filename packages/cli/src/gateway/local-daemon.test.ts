import { describe, expect, test } from 'vitest';
import { buildDaemonArgs, settingsFromEnv } from './local-daemon.js';

describe('settingsFromEnv', () => {
  test('ports come from OPENSHELL_GATEWAY_PORT / _HTTP_PORT, else the defaults', async () => {
    const custom = await settingsFromEnv({
      OPENSHELL_STATE_DIR: '/srv/os',
      OPENSHELL_GATEWAY_PORT: '27680',
      OPENSHELL_GATEWAY_HTTP_PORT: '27681',
    });
    expect(buildDaemonArgs(custom)).toEqual([
      ...['--state-dir', '/srv/os', '--port', '27680', '--http-port', '27681'],
    ]);
    const defaults = await settingsFromEnv({ OPENSHELL_STATE_DIR: '/srv/os' });
    expect(defaults).toMatchObject({ port: 17670, httpPort: 17671 });
  });

  test.for(['0', '70000', 'abc', '1.5'])(
    'OPENSHELL_GATEWAY_PORT=%s is refused by name',
    async (value) => {
      await expect(
        settingsFromEnv({ OPENSHELL_STATE_DIR: '/srv/os', OPENSHELL_GATEWAY_PORT: value }),
      ).rejects.toThrow(`OPENSHELL_GATEWAY_PORT=${value}: expected a port number`);
    },
  );
});
