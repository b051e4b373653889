import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { probeKernel } from '@openshell/native-enforcer';
import { OpenShellError } from '@openshell/policy-schema';
import type { AgentHello, ProbeSummary } from '@openshell/proto';
import { connectGateway } from './connect-gateway.js';
import { createEnforcedLauncher } from './create-enforced-launcher.js';
import { createEventOutbox, type EventOutbox } from './event-outbox.js';
import { createLogger, type Logger } from './logger.js';
import type { AgentArgs } from './parse-agent-args.js';
import { createPolicyState } from './policy-state.js';
import { toProbeSummary } from './probe-summary.js';
import type { ProcessExit } from './process-launcher.js';
import { readSpecFile, type SpecFile } from './read-spec-file.js';
import { readToken } from './read-token.js';
import { waitForStartGate } from './wait-start-gate.js';
import { createSessionEngine, type SessionEngine } from './session-engine.js';

/** How long sessions get between SIGTERM and SIGKILL when the agent itself stops. */
const STOP_GRACE_MS = 5000;

function readAgentVersion(): string {
  const raw: unknown = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  );
  const version = (raw as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

/** The agent's own exit code for how the main process ended (shell convention for signals). */
function toAgentExitCode(exit: ProcessExit | undefined): number {
  if (exit === undefined) return 0;
  if (exit.signal !== null) return 128 + (constants.signals[exit.signal] ?? 0);
  return exit.code ?? 0;
}

interface Transport {
  close(): Promise<void>;
}

/**
 * File mode: the control socket, once the probe is in. Gateway mode: the connection starts at
 * once (TLS handshake and HTTP/2 set-up overlap the kernel probe); only hello waits for it.
 */
async function startTransport(
  args: AgentArgs,
  spec: SpecFile | undefined,
  engine: SessionEngine,
  outbox: EventOutbox,
  probed: Promise<ProbeSummary>,
  helloWith: (probe: ProbeSummary) => AgentHello,
  log: Logger,
): Promise<Transport> {
  if (args.mode === 'file') {
    if (spec === undefined)
      throw new OpenShellError('ERR_INTERNAL', 'file mode without a spec file');
    const probe = await probed;
    const channel = { send: (event: unknown) => log('local event', { event }) };
    engine.handle({ payload: { $case: 'spec', value: spec.process } }, channel);
    // Loaded only in file mode: the control socket is a grpc-js server, and in the bundle a
    // dynamic import keeps grpc-js from being evaluated at every sandbox (gateway mode) start.
    const { serveControlSocket } = await import('./serve-control-socket.js');
    const hello = () => helloWith(probe);
    return serveControlSocket({ path: args.controlSocket, engine, outbox, hello, log });
  }
  const token = readToken(args.token);
  if (args.startGateFd !== undefined) await waitForStartGate(args.startGateFd);
  const connection = connectGateway({
    target: args.target,
    ca: args.gatewayCa === undefined ? undefined : readFileSync(args.gatewayCa),
    token,
    engine,
    outbox,
    hello: () => probed.then(helloWith),
    log,
  });
  try {
    // A failed probe ends the agent (fail closed), as it did before the connection overlapped it.
    await probed;
  } catch (error) {
    await connection.close();
    throw error;
  }
  return { close: () => connection.close() };
}

/**
 * Runs the sandbox agent until a Shutdown command or SIGTERM/SIGINT (forwarded to the main
 * process first) ends it; resolves with the exit code for the agent process.
 */
export async function runAgent(args: AgentArgs, log: Logger = createLogger()): Promise<number> {
  // The probe is a child process: start it first so it runs while this process parses the spec's
  // policy (yaml, ajv compile) and builds the engine, instead of after. The no-op catch only
  // keeps an early throw below from leaving its rejection unhandled; the await still sees it.
  const probing = probeKernel();
  probing.catch(() => undefined);
  const spec = args.mode === 'file' ? readSpecFile(args.specFile) : undefined;
  const sandboxId = args.mode === 'file' ? (spec?.sandboxId ?? 'local') : args.sandboxId;
  const policy = createPolicyState();
  const launcher = createEnforcedLauncher({
    policy: () => policy.current(),
    sandboxUid: args.sandboxUid,
    sandboxGid: args.sandboxGid,
    workdir: args.sandbox.home,
    extraReadOnly: args.sandbox.caBundle === undefined ? [] : [args.sandbox.caBundle],
  });
  const outbox = createEventOutbox(log);
  let finish: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const engine = createSessionEngine({
    launcher,
    config: args.sandbox,
    policy,
    sandboxId,
    broadcast: (event, options) => outbox.broadcast(event, options),
    log,
    agentPid: process.pid,
    onShutdown: () => void exitCodeOfMain(engine).then(finish),
  });
  if (spec !== undefined) {
    const ack = policy.apply({ version: 1, hash: '', yaml: spec.policyYaml }, sandboxId);
    if (!ack.ok)
      throw new OpenShellError(
        'ERR_POLICY_INVALID',
        `the spec file's policy was refused: ${ack.error ?? ''}`,
      );
  }
  const probed = probing.then((result) => {
    const probe = toProbeSummary(result);
    for (const gap of probe.unenforced) log('NOT ENFORCED on this host', { gap });
    return probe;
  });
  const agentVersion = readAgentVersion();
  const helloWith = (probe: ProbeSummary): AgentHello => {
    const { mainPid, policyVersion } = engine.status();
    return {
      sandboxId,
      agentVersion,
      probe,
      ...(mainPid === undefined ? {} : { mainPid }),
      ...(policyVersion === undefined ? {} : { policyVersion }),
    };
  };
  const transport = await startTransport(args, spec, engine, outbox, probed, helloWith, log);
  installSignalForwarding(engine, log, finish);
  const code = await exitCode;
  await transport.close();
  return code;
}

async function exitCodeOfMain(engine: SessionEngine): Promise<number> {
  const exited = engine.mainExited();
  return toAgentExitCode(exited === undefined ? undefined : await exited);
}

/**
 * SIGTERM/SIGINT go to the main process (the agent sits where a container's init would);
 * once it has exited, the remaining sessions are stopped and the agent exits with its code.
 */
function installSignalForwarding(
  engine: SessionEngine,
  log: Logger,
  finish: (code: number) => void,
): void {
  let stopping = false;
  function onSignal(signal: NodeJS.Signals): void {
    const forwarded = engine.signalMain(signal);
    log('signal received', { signal, forwardedToMain: forwarded });
    if (stopping) return;
    stopping = true;
    const mainDone = engine.mainExited() ?? Promise.resolve(undefined);
    void mainDone
      .then(() => engine.shutdown(STOP_GRACE_MS))
      .then(() => exitCodeOfMain(engine))
      .then(finish);
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
