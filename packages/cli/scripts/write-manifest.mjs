// Writes oclif.manifest.json after each build. Without it oclif imports every command module
// on every invocation to read its flags — including `doctor`'s import of the whole gateway
// package — which made `openshell sandbox list` load ~3x more code than it runs. With it,
// only the invoked command is imported.
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import { format, resolveConfig } from 'prettier';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = new URL('../oclif.manifest.json', import.meta.url);
// Config.load reads an existing manifest whatever its options say, so the old one must go
// first or a stale manifest would be copied forward on every build.
await rm(target, { force: true });
const config = await Config.load({ root });
const manifest = config.rootPlugin.manifest;
// Formatted like every other file, so the repository's `prettier --check .` stays green
// (prettier reads only the root ignore files, not this package's .gitignore).
const file = fileURLToPath(target);
const options = (await resolveConfig(file)) ?? {};
await writeFile(target, await format(JSON.stringify(manifest), { ...options, filepath: file }));
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
