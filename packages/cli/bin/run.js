#!/usr/bin/env node
// Entry point for `openshell`. oclif discovers commands from dist/commands.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
