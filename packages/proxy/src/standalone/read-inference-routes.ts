import { OpenShellError } from '@openshell/policy-schema';
import type { InferenceRoute } from '../inference/inference-routes.js';

/**
 * Reads the standalone `--inference-routes` file: a JSON list of routes (or
 * `{ "routes": [...] }`). A route may name its key with `apiKeyEnv` instead of `apiKey`,
 * so the file itself holds no secret. Field validation is left to setInferenceRoutes.
 */
export function parseInferenceRoutesFile(
  text: string,
  path: string,
  env: NodeJS.ProcessEnv,
): InferenceRoute[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--inference-routes ${path} is not JSON (${String(error)}); write a list of routes: [{"name": "local", "kind": "local", "baseUrl": "http://127.0.0.1:11434/v1", "api": "openai", "model": "llama3"}]`,
      { cause: error },
    );
  }
  const list =
    typeof data === 'object' && data !== null && !Array.isArray(data) && 'routes' in data
      ? data.routes
      : data;
  if (!Array.isArray(list)) {
    throw new OpenShellError(
      'ERR_USAGE',
      `--inference-routes ${path}: expected a list of routes (or {"routes": [...]})`,
    );
  }
  return list.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) return entry as InferenceRoute;
    const { apiKeyEnv, ...route } = entry as Record<string, unknown>;
    if (apiKeyEnv === undefined) return route as unknown as InferenceRoute;
    const value = typeof apiKeyEnv === 'string' ? env[apiKeyEnv] : undefined;
    if (value === undefined) {
      throw new OpenShellError(
        'ERR_USAGE',
        `--inference-routes ${path}: route #${index + 1} names apiKeyEnv ${JSON.stringify(apiKeyEnv)}, which is not set in the environment; export it or remove apiKeyEnv`,
      );
    }
    return { ...route, apiKey: value } as unknown as InferenceRoute;
  });
}
