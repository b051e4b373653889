import { OpenShellError } from '@openshell/policy-schema';
import type { ProcessSpec, SessionRequest, SessionResponse } from '@openshell/proto';
import type { AttachableProcess } from './attachable-process.js';
import { reattach, runShell, type ShellRegistry } from './connect-session.js';
import { ExecSession } from './exec-session.js';
import { identifySocketOwner } from './identify-socket-owner.js';
import { LazySession, type RunnableSession } from './lazy-session.js';
import type { Logger } from './logger.js';
import { MAIN_SESSION_ID, startMainProcess, type StartedMain } from './main-process.js';
import type { PolicyState } from './policy-state.js';
import type { OutputChannelName, ProcessExit, ProcessLauncher } from './process-launcher.js';
import type { SandboxConfig } from './sandbox-env.js';
import { failedEvent, type Session, type SessionChannel } from './session-events.js';

/** After SIGKILL, how long shutdown waits for exits to be reported before giving up. */
const KILL_REPORT_MS = 2000;

export interface SessionEngineDeps {
  readonly launcher: ProcessLauncher;
  readonly config: SandboxConfig;
  readonly policy: PolicyState;
  readonly sandboxId: string;
  /** Events not tied to one session (main process exit) for every connected peer. */
  readonly broadcast: (event: SessionRequest, options?: { readonly sticky?: boolean }) => void;
  readonly log: Logger;
  /** The agent's pid: identity answers list ancestors below it only. */
  readonly agentPid: number;
  /** Main-process output while nobody is attached; default the agent's stdout/stderr. */
  readonly writeMainOutput?: (channel: OutputChannelName, data: Buffer) => void;
  /** A Shutdown command finished stopping everything; the agent should exit. */
  readonly onShutdown?: () => void;
}

/**
 * The transport-neutral core of the agent: consumes gateway→agent commands
 * (SessionResponse) from any channel and answers with agent→gateway events
 * (SessionRequest). The gateway client and the control-socket server both drive it.
 */
export interface SessionEngine {
  handle(command: SessionResponse, channel: SessionChannel): void;
  /** A channel closed: its sessions are abandoned (detached shells survive). */
  closeChannel(channel: SessionChannel): void;
  /** What hello reports on (re)connect. */
  status(): { readonly mainPid: number | undefined; readonly policyVersion: number | undefined };
  /** Forwards a signal the agent received (SIGTERM, SIGINT) to the main process. */
  signalMain(signal: NodeJS.Signals): boolean;
  /** The main process's exit, once it was started. */
  mainExited(): Promise<ProcessExit> | undefined;
  /** SIGTERM to everything, SIGKILL after `graceMs`; resolves when exits were reported. */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Creates the session engine.
 *
 * @example
 * const engine = createSessionEngine({ launcher, config, policy, sandboxId: 'sb-1', broadcast, log, agentPid: process.pid });
 * engine.handle({ payload: { $case: 'exec', value: { sessionId: 's1', process: spec } } }, channel);
 */
export function createSessionEngine(deps: SessionEngineDeps): SessionEngine {
  const sessions = new Map<string, Session>();
  const shells = new Map<string, AttachableProcess>();
  const running = new Set<Promise<void>>();
  let pendingSpec: ProcessSpec | undefined;
  let main: StartedMain | undefined;
  let starting = false;
  let stopping = false;
  const internalExecutables = new Set(deps.launcher.internalExecutables ?? []);
  const processDeps = { launcher: deps.launcher, config: deps.config, log: deps.log };
  const writeMainOutput =
    deps.writeMainOutput ??
    ((channel: OutputChannelName, data: Buffer) =>
      (channel === 'stdout' ? process.stdout : process.stderr).write(data));

  const registry: ShellRegistry = {
    addSession: (id, session) => sessions.set(id, session),
    removeSession: (id) => sessions.delete(id),
    findAttachable: (id) => (id === MAIN_SESSION_ID ? main?.process : shells.get(id)),
    addShell: (id, shell) => shells.set(id, shell),
    removeShell: (id) => shells.delete(id),
    broadcast: deps.broadcast,
  };

  function track(work: Promise<void>): void {
    running.add(work);
    void work.finally(() => running.delete(work));
  }

  /** Registers a session under its id for inputs, runs it, and forgets it when it ends. */
  function runSession(id: string, session: RunnableSession): void {
    sessions.set(id, session);
    track(
      session.run().finally(() => {
        if (sessions.get(id) === session) sessions.delete(id);
      }),
    );
  }

  function maybeStartMain(): void {
    const spec = pendingSpec;
    if (spec === undefined || main !== undefined || starting || stopping) return;
    if (deps.policy.current() === undefined) return;
    starting = true;
    pendingSpec = undefined;
    const mainDeps = {
      ...processDeps,
      broadcast: deps.broadcast,
      onAttachmentEnd: (id: string) => sessions.delete(id),
      writeUnattached: writeMainOutput,
    };
    startMainProcess(mainDeps, spec).then(
      (started) => {
        main = started;
        starting = false;
      },
      (error: unknown) => {
        starting = false;
        const failure = failedEvent(MAIN_SESSION_ID, error);
        deps.log('main process could not start', { error: failure.payload?.value });
        // The reason first, then the exit: ExitStatus with neither code nor signal is the
        // proto's "never started". Both sticky, so a gateway that connects later learns why.
        deps.broadcast(failure, { sticky: true });
        deps.broadcast(
          {
            payload: {
              $case: 'processExited',
              value: { pid: 0, exit: { timedOut: false }, main: true },
            },
          },
          { sticky: true },
        );
      },
    );
  }

  /** A new session id must be unique among live sessions and attachable processes. */
  function refuseNewSession(id: string, channel: SessionChannel): boolean {
    if (stopping) {
      channel.send(
        failedEvent(
          id,
          new OpenShellError('ERR_SANDBOX_NOT_READY', 'the sandbox is shutting down'),
        ),
      );
      return true;
    }
    if (id === '' || id === MAIN_SESSION_ID || sessions.has(id) || shells.has(id)) {
      channel.send(
        failedEvent(
          id,
          new OpenShellError(
            'ERR_USAGE',
            `session id ${JSON.stringify(id)} is empty, reserved or in use; use a fresh id`,
          ),
        ),
      );
      return true;
    }
    return false;
  }

  function handle(command: SessionResponse, channel: SessionChannel): void {
    const payload = command.payload;
    if (payload === undefined) return;
    switch (payload.$case) {
      case 'spec':
        if (main !== undefined || starting) {
          deps.log('ignored a second main process spec', { pid: main?.process.pid });
          return;
        }
        pendingSpec = payload.value;
        maybeStartMain();
        return;
      case 'policyPush': {
        const ack = deps.policy.apply(payload.value, deps.sandboxId);
        deps.log(ack.ok ? 'policy loaded' : 'policy refused', {
          version: ack.version,
          error: ack.error,
        });
        channel.send({ payload: { $case: 'policyAck', value: ack } });
        maybeStartMain();
        return;
      }
      case 'exec': {
        const { sessionId } = payload.value;
        if (!refuseNewSession(sessionId, channel))
          runSession(sessionId, new ExecSession(processDeps, payload.value, channel));
        return;
      }
      case 'connect': {
        const { sessionId, attachTo } = payload.value;
        if (refuseNewSession(sessionId, channel)) return;
        if (attachTo !== undefined && attachTo !== '')
          reattach(registry, { ...payload.value, attachTo }, channel);
        else track(runShell(processDeps, registry, payload.value, channel));
        return;
      }
      case 'upload': {
        const { sessionId } = payload.value;
        if (!refuseNewSession(sessionId, channel))
          runSession(
            sessionId,
            new LazySession(sessionId, channel, async () => {
              const { UploadSession } = await import('./upload-session.js');
              return new UploadSession(processDeps, payload.value, channel);
            }),
          );
        return;
      }
      case 'download': {
        const { sessionId } = payload.value;
        if (!refuseNewSession(sessionId, channel))
          runSession(
            sessionId,
            new LazySession(sessionId, channel, async () => {
              const { DownloadSession } = await import('./download-session.js');
              return new DownloadSession(processDeps, payload.value, channel);
            }),
          );
        return;
      }
      case 'sessionInput': {
        const { sessionId, input } = payload.value;
        const session = sessions.get(sessionId);
        if (session === undefined) {
          channel.send(
            failedEvent(
              sessionId,
              new OpenShellError(
                'ERR_SESSION_NOT_FOUND',
                `no running session ${JSON.stringify(sessionId)} for this input`,
              ),
            ),
          );
        } else if (input !== undefined) {
          session.input(input);
        }
        return;
      }
      case 'identityQuery': {
        const answer = identifySocketOwner(payload.value, {
          agentPid: deps.agentPid,
          internalExecutables,
        });
        channel.send({ payload: { $case: 'identityAnswer', value: answer } });
        return;
      }
      case 'shutdown':
        void shutdown(payload.value.gracePeriodMs).then(() => deps.onShutdown?.());
        return;
    }
  }

  async function shutdown(graceMs: number): Promise<void> {
    stopping = true;
    pendingSpec = undefined;
    const waitAll = (): Promise<unknown> =>
      Promise.all([...running, ...(main === undefined ? [] : [main.exited])]);
    const signalAll = (signal: NodeJS.Signals): void => {
      main?.process.signal(signal);
      for (const shell of shells.values()) shell.signal(signal);
      for (const session of sessions.values()) {
        if (signal === 'SIGKILL') session.abandon();
        else session.input({ $case: 'signal', value: signal });
      }
    };
    signalAll('SIGTERM');
    if (await settlesWithin(waitAll(), graceMs)) return;
    signalAll('SIGKILL');
    await settlesWithin(waitAll(), KILL_REPORT_MS);
  }

  return {
    handle,
    closeChannel(channel) {
      for (const session of [...sessions.values()]) {
        if (session.channel === channel) session.abandon();
      }
    },
    status: () => ({ mainPid: main?.process.pid, policyVersion: deps.policy.version() }),
    signalMain(signal) {
      if (main === undefined) return false;
      main.process.signal(signal);
      return true;
    },
    mainExited: () => main?.exited,
    shutdown,
  };
}

function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
