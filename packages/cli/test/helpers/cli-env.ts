import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh config dir and state dir per test, so the CLI never reads ~/.config or
 * /var/lib/openshell, and an auto-start (if any) spawns `daemonBin` instead of the real daemon.
 */
export async function makeCliEnv(daemonBin?: string): Promise<{
  configDir: string;
  stateDir: string;
  env: Record<string, string | undefined>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'openshell-cli-'));
  const configDir = join(root, 'config');
  const stateDir = join(root, 'state');
  return {
    configDir,
    stateDir,
    env: {
      OPENSHELL_CONFIG_DIR: configDir,
      OPENSHELL_STATE_DIR: stateDir,
      OPENSHELL_GATEWAY_BIN: daemonBin ?? join(root, 'no-daemon-here.mjs'),
      OPENSHELL_GATEWAY: undefined,
      OPENSHELL_PROXY_RESOLVE: undefined,
      OPENSHELL_PROXY_UPSTREAM_CA: undefined,
    },
  };
}
