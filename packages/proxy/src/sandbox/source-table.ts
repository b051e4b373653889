import { OpenShellError } from '@openshell/policy-schema';
import {
  cidrContains,
  formatIp,
  normalizeAddress,
  parseCidr,
  parseIp,
  type Cidr,
} from '../ssrf/ip-address.js';

/**
 * Source address → sandbox id. Exact addresses (one per sandbox veth) are a map lookup;
 * CIDRs (e.g. `127.0.0.0/8` for standalone mode) are scanned after that.
 */
export interface SourceTable {
  lookup(address: string): string | undefined;
  /** Replaces the addresses of `sandboxId`; throws when one is already claimed by another sandbox. */
  assign(sandboxId: string, addresses: readonly string[]): void;
  remove(sandboxId: string): void;
}

interface Range {
  readonly sandboxId: string;
  readonly text: string;
  readonly cidr: Cidr;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.bytes) || cidrContains(b, a.bytes);
}

/** Creates an empty source table. */
export function createSourceTable(): SourceTable {
  const exact = new Map<string, string>();
  let ranges: Range[] = [];

  function parseAll(sandboxId: string, addresses: readonly string[]): Range[] {
    return addresses.map((text) => {
      const cidr = parseCidr(text);
      if (!cidr) {
        throw new OpenShellError(
          'ERR_USAGE',
          `sandbox ${sandboxId}: source address "${text}" is not an IP address or CIDR (e.g. 10.200.0.2 or 127.0.0.0/8)`,
        );
      }
      return { sandboxId, text, cidr };
    });
  }

  return {
    lookup(address) {
      const normalized = normalizeAddress(address);
      const hit = exact.get(normalized);
      if (hit !== undefined) return hit;
      const bytes = parseIp(normalized);
      if (!bytes) return undefined;
      return ranges.find(
        (r) => r.cidr.prefix < r.cidr.bytes.length * 8 && cidrContains(r.cidr, bytes),
      )?.sandboxId;
    },
    assign(sandboxId, addresses) {
      const wanted = parseAll(sandboxId, addresses);
      const others = ranges.filter((r) => r.sandboxId !== sandboxId);
      for (const w of wanted) {
        const clash = others.find((o) => overlaps(o.cidr, w.cidr));
        if (clash) {
          throw new OpenShellError(
            'ERR_CONFLICT',
            `sandbox ${sandboxId}: source address ${w.text} overlaps ${clash.text} of sandbox ${clash.sandboxId}; each source address must identify one sandbox`,
          );
        }
      }
      ranges = [...others, ...wanted];
      for (const [addr, id] of exact) if (id === sandboxId) exact.delete(addr);
      for (const w of wanted) {
        if (w.cidr.prefix === w.cidr.bytes.length * 8)
          exact.set(normalizeAddress(formatIp(w.cidr.bytes)), sandboxId);
      }
    },
    remove(sandboxId) {
      ranges = ranges.filter((r) => r.sandboxId !== sandboxId);
      for (const [addr, id] of exact) if (id === sandboxId) exact.delete(addr);
    },
  };
}
