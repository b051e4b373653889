/** Ctrl-P then Ctrl-Q, Docker's default detach sequence (REFERENCE: `sandbox connect`). */
const CTRL_P = 0x10;
const CTRL_Q = 0x11;

export interface DetachScan {
  /** Bytes to pass on to the terminal. */
  readonly forward: Buffer;
  /** The sequence completed: stop relaying; bytes after it are dropped. */
  readonly detach: boolean;
}

/**
 * Returns a scanner for the detach sequence in a stream of terminal input. Like Docker, a
 * Ctrl-P is held back until the next byte shows whether it starts the sequence; if not, it
 * is passed on together with that byte. The sequence may be split across chunks.
 */
export function createDetachScanner(): (data: Buffer) => DetachScan {
  let holdingCtrlP = false;
  return function scanDetachKeys(data) {
    if (!holdingCtrlP && !data.includes(CTRL_P)) return { forward: data, detach: false };
    const out: number[] = [];
    for (const byte of data) {
      if (holdingCtrlP) {
        holdingCtrlP = false;
        if (byte === CTRL_Q) return { forward: Buffer.from(out), detach: true };
        out.push(CTRL_P);
      }
      if (byte === CTRL_P) holdingCtrlP = true;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  };
}
