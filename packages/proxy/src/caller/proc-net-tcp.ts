import { endianness } from 'node:os';
import { embeddedIpv4, parseIp, type IpBytes } from '../ssrf/ip-address.js';

const LITTLE_ENDIAN = endianness() === 'LE';

function hexWord(bytes: IpBytes, offset: number): string {
  const word = LITTLE_ENDIAN
    ? [bytes[offset + 3], bytes[offset + 2], bytes[offset + 1], bytes[offset]]
    : [bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]];
  return word
    .map((b) => (b ?? 0).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/**
 * The kernel prints each address in /proc/net/tcp{,6} as 32-bit words in host byte order
 * (`%08X` of the in-memory value) and the port as `%04X` (net/ipv4/tcp_ipv4.c,
 * get_tcp4_sock). Encoding the wanted endpoint the same way lets us match lines as text.
 */
function encodeEndpoint(bytes: IpBytes, port: number): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i += 4) hex += hexWord(bytes, i);
  return `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

function toMapped(v4: IpBytes): IpBytes {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

/** Keys (`local|remote` as the kernel prints them) under which the client's socket can appear. */
export interface SocketKeys {
  readonly tcp: string | null;
  readonly tcp6: string | null;
}

/**
 * The client's socket has the client's endpoint as local and the proxy's as remote.
 * An IPv4 peer can own either an AF_INET socket (in `tcp`) or an AF_INET6 socket with a
 * mapped address (in `tcp6`), so both keys are produced.
 */
export function encodeSocketKeys(
  clientAddress: string,
  clientPort: number,
  proxyAddress: string,
  proxyPort: number,
): SocketKeys | null {
  const client = parseIp(clientAddress);
  const proxy = parseIp(proxyAddress);
  if (!client || !proxy) return null;
  const client4 = client.length === 4 ? client : embeddedIpv4(client);
  const proxy4 = proxy.length === 4 ? proxy : embeddedIpv4(proxy);
  const isMapped = (b: IpBytes): boolean => b.length === 16 && b[10] === 0xff && b[11] === 0xff;
  const v4 =
    client4 &&
    proxy4 &&
    (client.length === 4 || isMapped(client)) &&
    (proxy.length === 4 || isMapped(proxy));
  const c6 = client.length === 16 ? client : toMapped(client);
  const p6 = proxy.length === 16 ? proxy : toMapped(proxy);
  return {
    tcp:
      v4 && client4 && proxy4
        ? `${encodeEndpoint(client4, clientPort)}|${encodeEndpoint(proxy4, proxyPort)}`
        : null,
    tcp6: `${encodeEndpoint(c6, clientPort)}|${encodeEndpoint(p6, proxyPort)}`,
  };
}

/** The socket's inode and the uid that created it, from one /proc/net/tcp line. */
export interface SocketEntry {
  readonly inode: number;
  readonly uid: number;
}

/**
 * Scans one /proc/net/tcp{,6} text for the wanted keys and returns key → inode and uid.
 * Lines are `  sl: LOCAL REMOTE st ... inode ...`; only the two address columns are cut
 * out of each line (no regex split), since a busy host has thousands of lines per read.
 * Inode 0 (a socket being torn down, TIME_WAIT) is not a usable identity and is skipped.
 */
export function findInodes(
  tableText: string,
  wanted: ReadonlySet<string>,
): Map<string, SocketEntry> {
  const found = new Map<string, SocketEntry>();
  if (wanted.size === 0) return found;
  let start = tableText.indexOf('\n') + 1;
  while (start > 0 && start < tableText.length && found.size < wanted.size) {
    const end = tableText.indexOf('\n', start);
    const line = tableText.slice(start, end === -1 ? tableText.length : end);
    start = end + 1;
    const colon = line.indexOf(': ');
    if (colon === -1) continue;
    const localEnd = line.indexOf(' ', colon + 2);
    const remoteEnd = line.indexOf(' ', localEnd + 1);
    const key = `${line.slice(colon + 2, localEnd)}|${line.slice(localEnd + 1, remoteEnd)}`;
    if (!wanted.has(key)) continue;
    // After the addresses: st tx:rx tr:when retrnsmt uid timeout inode.
    const fields = line.slice(remoteEnd).trim().split(/\s+/);
    const uid = Number(fields[4]);
    const inode = Number(fields[6]);
    if (Number.isSafeInteger(inode) && inode > 0 && Number.isSafeInteger(uid))
      found.set(key, { inode, uid });
    if (end === -1) break;
  }
  return found;
}
