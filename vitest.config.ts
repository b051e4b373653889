import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './vitest.summary-reporter.js';

// One vitest run over every package (one summary line for CI) — each package is a project
// so failures name the package. e2e runs the built binaries and is also its own project.
const PACKAGES = ['policy-schema', 'native-enforcer', 'proxy', 'sandbox-agent', 'gateway', 'cli'];

export default defineConfig({
  test: {
    reporters: ['default', new SummaryReporter()],
    projects: [
      ...PACKAGES.map((name) => ({
        test: {
          name,
          root: `packages/${name}`,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          passWithNoTests: true,
          testTimeout: 30_000,
        },
      })),
      {
        test: { name: 'proto', root: 'proto', include: ['test/**/*.test.ts'] },
      },
      {
        test: {
          name: 'e2e',
          root: 'e2e',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
