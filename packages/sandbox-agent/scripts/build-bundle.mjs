// Bundles the compiled agent (dist/bin.js and everything it imports) into dist/agent.bundle.mjs.
// Why: node spends most of the agent's start-up resolving and loading a few hundred small
// files through pnpm's symlinked node_modules (grpc-js, protobuf, the workspace packages);
// one file parses and links in a fraction of that, which is what sandbox create → first
// command waits on. dist/bin.js stays the unbundled entry for development and tests.
import { readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { precompilePolicyValidator } from './precompile-policy-validator.mjs';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const outfile = join(packageDir, 'dist/agent.bundle.mjs');

// Modules that locate files next to themselves (the launcher and pty helper binaries, the
// agent's package.json, ajv through createRequire) read import.meta.url. Inside the bundle that
// would be the bundle's URL, so each such module gets the URL of its original file instead,
// expressed relative to the bundle: the workspace is bound as a whole inside the sandbox, so the
// relative layout holds wherever the root is mounted.
function rewriteOwnLocation(source, path) {
  if (!source.includes('import.meta.url') || path.includes(`${sep}node_modules${sep}.pnpm${sep}`))
    return source;
  const fromBundle = relative(dirname(outfile), path).split(sep).join('/');
  const ownUrl = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
  return source.replaceAll('import.meta.url', ownUrl);
}

const keepOwnLocation = {
  name: 'keep-own-location',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = rewriteOwnLocation(source, args.path);
      return contents === source ? undefined : { contents, loader: 'js' };
    });
  },
};

// The generated wire code of @openshell/proto is one file per .proto, re-exported by one index,
// and each file's top level builds grpc-js client constructors (`XClient =
// makeGenericClientConstructor(...)`). The agent uses none of them: in gateway mode it speaks
// gRPC through node:http2 (open-grpc-stream.ts), and file mode's control socket brings its own
// grpc-js client and server (control-service.ts), imported dynamically. Left in, those calls
// would make esbuild keep the gateway's and the proxy's whole generated API and put grpc-js in
// the chunk every start parses. So inside the bundle the constructors are replaced by a
// function that throws if anything ever calls it, the generated files are marked free of side
// effects, and esbuild drops whatever the agent does not reference.
const GRPC_IMPORT = /^import \{[^}]*\} from "@grpc\/grpc-js";$/m;
const CLIENT_CONSTRUCTOR = /= makeGenericClientConstructor\([^;]*\);/g;
const NOT_BUNDLED = `function __openshellClientNotBundled() {
  throw new Error('the grpc-js clients of @openshell/proto are left out of the agent bundle (scripts/build-bundle.mjs)');
}
`;
const SKIP = Symbol('resolve-once');
const dropUnusedGeneratedCode = {
  name: 'drop-unused-generated-code',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/gen\/openshell\/v1\/[a-z-]+\.js$/ }, (args) => ({
      path: join(args.resolveDir, args.path),
      sideEffects: false,
    }));
    pluginBuild.onLoad({ filter: /\/gen\/openshell\/v1\/[a-z-]+\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source
        .replace(GRPC_IMPORT, NOT_BUNDLED)
        .replaceAll(CLIENT_CONSTRUCTOR, '= __openshellClientNotBundled;');
      if (contents.includes('makeGenericClientConstructor') || contents.includes('@grpc/grpc-js')) {
        throw new Error(
          `${args.path} uses grpc-js in a way scripts/build-bundle.mjs does not recognise; update dropUnusedGeneratedCode`,
        );
      }
      return { contents, loader: 'js' };
    });
    pluginBuild.onResolve({ filter: /^@grpc\/grpc-js$/ }, async (args) => {
      if (args.pluginData === SKIP) return undefined;
      const resolved = await pluginBuild.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        pluginData: SKIP,
      });
      return { ...resolved, sideEffects: false };
    });
  },
};

// Chunks from an earlier build would otherwise pile up (their names carry a content hash).
for (const name of await readdir(dirname(outfile))) {
  if (name.startsWith('agent.chunk-')) await rm(join(dirname(outfile), name));
}

await build({
  entryPoints: { 'agent.bundle': join(packageDir, 'dist/bin.js') },
  outdir: dirname(outfile),
  outExtension: { '.js': '.mjs' },
  // What only a dynamic import reaches (file mode's control socket and with it grpc-js and
  // protobufjs, about half of all the code) goes to a chunk that gateway mode never reads, so
  // V8 does not even parse it at sandbox start. Chunks sit next to the entry, so the rewritten
  // import.meta.url paths below hold for them too.
  splitting: true,
  chunkNames: 'agent.chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The CommonJS dependencies (grpc-js, protobufjs) require node built-ins; an ESM bundle has no
  // `require` of its own, so give it one.
  banner: {
    js: "import { createRequire as __openshellCreateRequire } from 'node:module';\nconst require = __openshellCreateRequire(import.meta.url);",
  },
  // bin.js starts with a shebang; esbuild keeps it at the top of the output.
  legalComments: 'none',
  // V8 parses every byte of the one file at start (lazy functions are still pre-parsed) and
  // keeps the source string in the heap for the agent's lifetime: whitespace, comments and
  // syntax go. Identifiers stay, so stack traces keep their function names, and keepNames'
  // run-time __name wrappers are not needed; dist/agent.bundle.mjs.map maps lines back.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'external',
  logLevel: 'warning',
  plugins: [
    // Before keepOwnLocation: the first onLoad that returns contents wins, so this one applies
    // the same location rewrite to the file it changes.
    precompilePolicyValidator(
      fileURLToPath(import.meta.resolve('@openshell/policy-schema')),
      rewriteOwnLocation,
    ),
    keepOwnLocation,
    dropUnusedGeneratedCode,
  ],
});
