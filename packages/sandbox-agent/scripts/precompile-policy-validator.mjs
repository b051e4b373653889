// An esbuild plugin that puts a precompiled policy validator into the agent bundle.
// Why: @openshell/policy-schema loads ajv and compiles the policy JSON Schema on the first
// parse. In the agent that first parse is the gateway's first policy push, on the path of
// sandbox create → first command, and it was its largest single cost (~150–250 ms of CPU on a
// 2-core host: a hundred small ajv files, then code generation for the whole schema). Here the
// schema is compiled once at build time into ajv's standalone code (the same source ajv.compile
// generates and evals, with the same options), and the bundle's `require('ajv')` in
// schema-issues.js gets an Ajv whose compile() returns that function for that schema. Any other
// schema or options fall through to the real ajv, so behaviour is the same either way.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

const SHIM_NAMESPACE = 'openshell-precompiled-ajv';
const AJV_CALL = "requireCommonJs('ajv')";

/**
 * Returns the plugin; `policySchemaEntry` is the resolved path of @openshell/policy-schema's
 * dist/index.js (ajv is its dependency, so ajv and its runtime helpers resolve from there);
 * `rewriteSource(source, path)` is the bundle's other per-file rewrite, applied here too
 * because esbuild runs only the first onLoad that returns contents.
 */
export function precompilePolicyValidator(policySchemaEntry, rewriteSource) {
  const policySchemaDist = dirname(policySchemaEntry);
  const schemaIssuesFile = `${policySchemaDist}${sep}parse${sep}schema-issues.js`;
  const schemaModule = `${policySchemaDist}${sep}schema${sep}policy-json-schema.js`;
  const requireFromPolicySchema = createRequire(policySchemaEntry);
  let options;

  return {
    name: 'precompile-policy-validator',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /schema-issues\.js$/ }, async (args) => {
        if (args.path !== schemaIssuesFile) return undefined;
        const source = await readFile(args.path, 'utf8');
        const literal = /new Ajv\((\{[^}]*\})\)/.exec(source)?.[1];
        if (source.split(AJV_CALL).length !== 2 || literal === undefined) {
          // Fail the build rather than ship a bundle that silently compiles the schema at run
          // time: schema-issues.ts changed shape, so this plugin needs updating with it.
          throw new Error(
            `${args.path} no longer loads ajv as ${AJV_CALL} with new Ajv({...}); update scripts/precompile-policy-validator.mjs`,
          );
        }
        // The options literal is plain data (booleans); evaluating it keeps the build-time
        // compile in step with whatever schema-issues.ts passes.
        options = new Function(`return ${literal};`)();
        const contents =
          `import { precompiledAjvModule as __openshellPrecompiledAjv } from '${SHIM_NAMESPACE}';\n` +
          rewriteSource(source, args.path).replace(
            AJV_CALL,
            '__openshellPrecompiledAjv(requireCommonJs)',
          );
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      });
      pluginBuild.onResolve({ filter: new RegExp(`^${SHIM_NAMESPACE}(/validator)?$`) }, (args) => ({
        path: args.path,
        namespace: SHIM_NAMESPACE,
      }));
      pluginBuild.onLoad({ filter: /.*/, namespace: SHIM_NAMESPACE }, async (args) => {
        if (args.path.endsWith('/validator')) return loadValidator(options);
        return {
          contents: shimSource(options),
          loader: 'js',
          resolveDir: dirname(schemaModule),
        };
      });

      async function loadValidator(ajvOptions) {
        const { POLICY_JSON_SCHEMA } = await import(schemaModule);
        const { Ajv } = requireFromPolicySchema('ajv');
        const standaloneCode = requireFromPolicySchema('ajv/dist/standalone').default;
        const ajv = new Ajv({ ...ajvOptions, code: { source: true, esm: true } });
        const code = standaloneCode(ajv, ajv.compile(POLICY_JSON_SCHEMA));
        // The generated code requires ajv's runtime helpers (ucs2length, equal, uri): resolve
        // them from the package that depends on ajv.
        return { contents: code, loader: 'js', resolveDir: dirname(policySchemaEntry) };
      }
    },
  };
}

function shimSource(options) {
  return `import { POLICY_JSON_SCHEMA } from './policy-json-schema.js';
import precompiled from '${SHIM_NAMESPACE}/validator';
const BUILD_OPTIONS = ${JSON.stringify(JSON.stringify(options))};
export function precompiledAjvModule(requireCommonJs) {
  class PrecompiledAjv {
    constructor(options) {
      this.options = options;
    }
    compile(schema) {
      if (schema === POLICY_JSON_SCHEMA && JSON.stringify(this.options) === BUILD_OPTIONS) {
        return precompiled;
      }
      const { Ajv } = requireCommonJs('ajv');
      return new Ajv(this.options).compile(schema);
    }
  }
  return { Ajv: PrecompiledAjv };
}
`;
}
