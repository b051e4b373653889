import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { GatewayStore } from '../gateway-store.js';
import { describeEventsContract } from './contract-events.js';
import { describeSandboxContract } from './contract-sandboxes.js';
import { describeSecretsContract } from './contract-secrets.js';

/**
 * The behaviour every GatewayStore implementation must show, written once: SQLite runs it
 * today, a Postgres store runs the same file later. Lives under test-helpers/ so the build
 * (tsconfig.build.json) leaves it out of dist.
 */

export interface StoreUnderTest {
  readonly store: GatewayStore;
  cleanup(): Promise<void>;
}

/** Registers the contract suite for one store implementation; each test gets a fresh store. */
export function describeStoreContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`GatewayStore contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    beforeEach(async () => {
      subject = await factory();
    });
    afterEach(async () => {
      await subject?.cleanup();
      subject = undefined;
    });
    function current(): GatewayStore {
      if (subject === undefined) throw new Error('the store factory has not run');
      return subject.store;
    }

    describeSandboxContract(current);
    describeSecretsContract(current);
    describeEventsContract(current);

    test('ping resolves on an open store', async () => {
      await expect(current().ping()).resolves.toBeUndefined();
    });
  });
}
