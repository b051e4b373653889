#!/usr/bin/env node
// openshell-sandbox-agent: the supervisor inside each sandbox (DESIGN §1, §3 step 4).
import { isOpenShellError, toOpenShellError } from '@openshell/policy-schema';
import { parseAgentArgs } from './parse-agent-args.js';
import { runAgent } from './run-agent.js';

async function main(): Promise<number> {
  try {
    return await runAgent(parseAgentArgs(process.argv.slice(2)));
  } catch (error) {
    const failure = toOpenShellError(error);
    process.stderr.write(`openshell-sandbox-agent: ${failure.message}\n`);
    if (!isOpenShellError(error)) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return failure.info.exit;
  }
}

// process.exit, not exitCode: the gRPC channel or server may hold the event loop open, and
// everything worth saying has been flushed by runAgent's transport close.
void main().then((code) => process.exit(code));
