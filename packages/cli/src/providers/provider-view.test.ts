import type { Provider } from '@openshell/proto';
import { expect, test } from 'vitest';
import { formatProviderDetails, formatProviderList, providerToJson } from './provider-view.js';

const gh: Provider = {
  id: 'p1',
  name: 'gh',
  type: 'github',
  credentialKeys: ['GH_TOKEN', 'GITHUB_TOKEN'],
  allowedHosts: ['api.github.com', 'github.com'],
  createdAtMs: Date.UTC(2026, 10, 27, 9),
};

test('list is NAME TYPE CREDENTIAL_KEYS sorted by name; empty says so', () => {
  expect(formatProviderList([{ ...gh, name: 'z', credentialKeys: [] }, gh])).toBe(
    'NAME  TYPE    CREDENTIAL_KEYS\ngh    github  GH_TOKEN,GITHUB_TOKEN\nz     github  -\n',
  );
  expect(formatProviderList([])).toBe('No providers found.\n');
});

test('details and JSON', () => {
  expect(formatProviderDetails(gh)).toBe(
    'Name:          gh\nType:          github\nCredentials:   GH_TOKEN, GITHUB_TOKEN\nAllowed hosts: api.github.com, github.com\nCreated:       2026-11-27 09:00:00 UTC\n',
  );
  expect(providerToJson(gh)).toEqual({
    name: 'gh',
    id: 'p1',
    type: 'github',
    credential_keys: ['GH_TOKEN', 'GITHUB_TOKEN'],
    allowed_hosts: ['api.github.com', 'github.com'],
    created_at: '2026-11-27T09:00:00.000Z',
  });
});
