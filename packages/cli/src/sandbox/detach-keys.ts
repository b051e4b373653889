const CTRL_P = 0x10;
const CTRL_Q = 0x11;

/** Result of scanning one stdin chunk: bytes to forward, and whether Ctrl-P Ctrl-Q was typed. */
export interface DetachScan {
  readonly forward: Buffer;
  readonly detach: boolean;
}

/**
 * Stateful scanner for the Ctrl-P Ctrl-Q detach sequence (docker's default). A Ctrl-P is held
 * back until the next byte shows whether it starts the sequence; if not, it is forwarded
 * with that byte, so Ctrl-P alone still reaches the shell (readline's previous-history).
 * The two keys may arrive in separate chunks.
 */
export function createDetachScanner(): (chunk: Buffer) => DetachScan {
  let pendingCtrlP = false;
  return function scanChunk(chunk: Buffer): DetachScan {
    const out: number[] = [];
    for (const byte of chunk) {
      if (pendingCtrlP) {
        pendingCtrlP = false;
        if (byte === CTRL_Q) return { forward: Buffer.from(out), detach: true };
        out.push(CTRL_P);
      }
      if (byte === CTRL_P) pendingCtrlP = true;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  };
}
