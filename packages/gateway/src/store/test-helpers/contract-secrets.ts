import { beforeEach, describe, expect, test } from 'vitest';
import type { GatewayStore, InferenceRouteInput } from '../gateway-store.js';
import { SAMPLE_ROUTE } from './store-fixtures.js';

/** Providers and inference routes: secrets in, names out, decrypted only on request. */
export function describeSecretsContract(current: () => GatewayStore): void {
  let store: GatewayStore;
  beforeEach(() => {
    store = current();
  });

  describe('providers', () => {
    const secretA = 'ghp_contract-secret-value-A';
    const secretB = 'ghp_contract-secret-value-B';
    const github = {
      name: 'github',
      type: 'github',
      credentials: { GITHUB_TOKEN: secretA, GH_TOKEN: secretB },
      allowedHosts: ['api.github.com', 'github.com'],
    };

    test('reads return sorted key names and never the values', async () => {
      const created = await store.createProvider(github, 42);
      expect(created).toMatchObject({
        name: 'github',
        type: 'github',
        credentialKeys: ['GH_TOKEN', 'GITHUB_TOKEN'],
        allowedHosts: ['api.github.com', 'github.com'],
        createdAtMs: 42,
      });
      const reads = [created, await store.getProvider('github'), await store.listProviders()];
      expect(reads[1]).toEqual(created);
      expect(reads[2]).toEqual([created]);
      for (const read of reads) {
        expect(JSON.stringify(read)).not.toContain(secretA);
        expect(JSON.stringify(read)).not.toContain(secretB);
      }
      expect(await store.getProvider('nope')).toBeUndefined();
    });

    test('providerSecrets returns the decrypted values', async () => {
      await store.createProvider(github, 1);
      await store.createProvider({ ...github, name: 'empty', credentials: {} }, 1);
      expect(await store.providerSecrets('github')).toEqual(github.credentials);
      expect(await store.providerSecrets('empty')).toEqual({});
      await expect(store.providerSecrets('nope')).rejects.toMatchObject({
        code: 'ERR_PROVIDER_NOT_FOUND',
      });
    });

    test('a taken name is ERR_PROVIDER_EXISTS without echoing secrets; a new name works', async () => {
      await store.createProvider(github, 1);
      const refused = store.createProvider({ ...github, credentials: { X: secretB } }, 2);
      await expect(refused).rejects.toMatchObject({ code: 'ERR_PROVIDER_EXISTS' });
      await expect(refused).rejects.toThrow('github');
      await expect(refused).rejects.not.toThrow(secretB);
      expect(await store.providerSecrets('github')).toEqual(github.credentials);
      await store.createProvider({ ...github, name: 'github-2' }, 2);
      expect((await store.listProviders()).map((p) => p.name)).toEqual(['github', 'github-2']);
    });

    test('delete removes the provider and its secrets', async () => {
      await store.createProvider(github, 1);
      expect(await store.deleteProvider('github')).toBe(true);
      expect(await store.getProvider('github')).toBeUndefined();
      await expect(store.providerSecrets('github')).rejects.toMatchObject({
        code: 'ERR_PROVIDER_NOT_FOUND',
      });
      expect(await store.deleteProvider('github')).toBe(false);
      await store.createProvider({ ...github, credentials: { ONLY: 'x' } }, 2);
      expect(await store.providerSecrets('github')).toEqual({ ONLY: 'x' });
    });
  });

  describe('inference routes', () => {
    test('set creates, get/list read back, keys are decrypted', async () => {
      const local = await store.setInferenceRoute(SAMPLE_ROUTE, 10);
      const frontier = await store.setInferenceRoute(
        { ...SAMPLE_ROUTE, name: 'claude', kind: 'frontier', api: 'anthropic', apiKey: 'sk-ant-x' },
        11,
      );
      expect(local).toEqual({
        name: 'local',
        kind: 'local',
        baseUrl: SAMPLE_ROUTE.baseUrl,
        api: 'openai',
        model: 'llama3',
        hasApiKey: false,
        updatedAtMs: 10,
      });
      expect(frontier).toMatchObject({ hasApiKey: true, kind: 'frontier', api: 'anthropic' });
      expect(JSON.stringify(frontier)).not.toContain('sk-ant-x');
      expect(await store.getInferenceRoute('local')).toEqual(local);
      expect(await store.listInferenceRoutes()).toEqual([frontier, local]);
      expect(await store.inferenceRouteKeys()).toEqual({ claude: 'sk-ant-x', local: '' });
      expect(await store.getInferenceRoute('nope')).toBeUndefined();
    });

    test.for([
      { apiKey: undefined, hasApiKey: true, key: 'old-key', meaning: 'keeps' },
      { apiKey: '', hasApiKey: false, key: '', meaning: 'removes' },
      { apiKey: 'new-key', hasApiKey: true, key: 'new-key', meaning: 'replaces' },
    ])('apiKey $apiKey $meaning the stored key', async ({ apiKey, hasApiKey, key }) => {
      await store.setInferenceRoute({ ...SAMPLE_ROUTE, apiKey: 'old-key' }, 1);
      const input: InferenceRouteInput =
        apiKey === undefined
          ? { ...SAMPLE_ROUTE, model: 'm2' }
          : { ...SAMPLE_ROUTE, model: 'm2', apiKey };
      const updated = await store.setInferenceRoute(input, 2);
      expect(updated).toMatchObject({ model: 'm2', hasApiKey, updatedAtMs: 2 });
      expect(await store.inferenceRouteKeys()).toEqual({ local: key });
    });

    test('delete removes the route and its key', async () => {
      await store.setInferenceRoute({ ...SAMPLE_ROUTE, apiKey: 'k' }, 1);
      expect(await store.deleteInferenceRoute('local')).toBe(true);
      expect(await store.getInferenceRoute('local')).toBeUndefined();
      expect(await store.inferenceRouteKeys()).toEqual({});
      expect(await store.deleteInferenceRoute('local')).toBe(false);
    });
  });
}
