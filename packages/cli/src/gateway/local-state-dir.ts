import { resolve } from 'node:path';
import { DEFAULT_GATEWAY_NAME, readGatewayMetadata } from '../config/config-dir.js';
import { loadDaemonLayout } from './daemon-layout.js';

/**
 * The local daemon's state dir: `--state-dir`, else OPENSHELL_STATE_DIR, else the dir the
 * config remembers from the last start, else the default (/var/lib/openshell for root).
 */
export async function resolveLocalStateDir(flag: string | undefined): Promise<string> {
  if (flag !== undefined) return resolve(flag);
  const fromEnv = process.env['OPENSHELL_STATE_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const meta = await readGatewayMetadata(DEFAULT_GATEWAY_NAME);
  return meta?.stateDir ?? (await loadDaemonLayout()).defaultStateDir();
}
