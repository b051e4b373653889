import type { Provider } from '@openshell/proto';
import { formatTime } from '../render/format-time.js';
import { renderTable } from '../render/render-table.js';

/** Stable `-o json` of a provider: names of credentials, never their values (the gateway has none to give). */
export function providerToJson(provider: Provider): Record<string, unknown> {
  return {
    name: provider.name,
    id: provider.id,
    type: provider.type,
    credential_keys: provider.credentialKeys,
    allowed_hosts: provider.allowedHosts,
    created_at: provider.createdAtMs > 0 ? new Date(provider.createdAtMs).toISOString() : null,
  };
}

/** `provider list`: `NAME  TYPE  CREDENTIAL_KEYS` (keys comma-separated). */
export function formatProviderList(providers: readonly Provider[]): string {
  if (providers.length === 0) return 'No providers found.\n';
  const rows = [...providers]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => [p.name, p.type, p.credentialKeys.join(',') || '-']);
  return renderTable(['NAME', 'TYPE', 'CREDENTIAL_KEYS'], rows);
}

/** `provider get`: one `Label:` per line, like `policy get`. */
export function formatProviderDetails(provider: Provider): string {
  const rows: [string, string][] = [
    ['Name', provider.name],
    ['Type', provider.type],
    ['Credentials', provider.credentialKeys.join(', ') || '-'],
    ['Allowed hosts', provider.allowedHosts.join(', ') || '-'],
    ['Created', formatTime(provider.createdAtMs)],
  ];
  return `${rows.map(([label, value]) => `${`${label}:`.padEnd(15)}${value}`).join('\n')}\n`;
}
