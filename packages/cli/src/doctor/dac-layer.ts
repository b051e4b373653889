import type { ProveLayer } from './prove-types.js';

/**
 * Which layer refused an EACCES, from what the sandbox saw of the path: Linux checks DAC
 * (mode bits; the sandbox has no CAP_DAC_OVERRIDE) before any LSM hook, so when the mode
 * already denies the sandbox uid it is the uid that stopped it, and Landlock otherwise.
 * `stat` is "MODE OWNER" as printed by `stat -c '%a %u'`; `bit` is 4 (read) or 2 (write).
 */
export function layerForEacces(stat: string, uid: string, bit: 4 | 2): ProveLayer {
  const [mode = '', owner = ''] = stat.trim().split(/\s+/);
  const bits = Number.parseInt(mode, 8);
  if (Number.isNaN(bits)) return 'landlock';
  const granted = owner === uid ? (bits >> 6) & bit : bits & bit;
  return granted === 0 ? 'uid/capabilities' : 'landlock';
}
