// Run as `node --import tsx create-in-child.ts '<options json>' '<spec json>'`: creates one
// sandbox, prints its handle as JSON and exits, like a gateway that stops after creating.
import type { SandboxSpec } from '../../compute-driver.js';
import { createLocalDriver } from '../create-local-driver.js';
import type { LocalDriverOptions } from '../local-driver-options.js';

const [optionsJson = '', specJson = ''] = process.argv.slice(2);
const driver = await createLocalDriver(JSON.parse(optionsJson) as LocalDriverOptions);
const handle = await driver.create(JSON.parse(specJson) as SandboxSpec);
process.stdout.write(`${JSON.stringify(handle)}\n`);
