// Bundles the compiled agent (dist/bin.js and everything it imports) into dist/agent.bundle.mjs.
// Why: node spends most of the agent's start-up resolving and loading a few hundred small
// files through pnpm's symlinked node_modules (grpc-js, protobuf, the workspace packages);
// one file parses and links in a fraction of that, which is what sandbox create → first
// command waits on. dist/bin.js stays the unbundled entry for development and tests.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const outfile = join(packageDir, 'dist/agent.bundle.mjs');

// Modules that locate files next to themselves (the launcher and pty helper binaries, the
// agent's package.json, ajv through createRequire) read import.meta.url. Inside the bundle that
// would be the bundle's URL, so each such module gets the URL of its original file instead,
// expressed relative to the bundle: the workspace is bound as a whole inside the sandbox, so the
// relative layout holds wherever the root is mounted.
const keepOwnLocation = {
  name: 'keep-own-location',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (
        !source.includes('import.meta.url') ||
        args.path.includes(`${sep}node_modules${sep}.pnpm${sep}`)
      )
        return undefined;
      const fromBundle = relative(dirname(outfile), args.path).split(sep).join('/');
      const ownUrl = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: source.replaceAll('import.meta.url', ownUrl), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(packageDir, 'dist/bin.js')],
  outfile,
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
  sourcemap: false,
  logLevel: 'warning',
  plugins: [keepOwnLocation],
});
