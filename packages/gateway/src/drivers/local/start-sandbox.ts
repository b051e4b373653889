import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Duplex, Readable, Writable } from 'node:stream';
import { OpenShellError } from '@openshell/policy-schema';
import { FD } from './build-bwrap-args.js';
import type { HostTools } from './local-driver-options.js';
import { TOOL_ENV } from './run-command.js';

export interface StartInputs {
  readonly tools: HostTools;
  readonly namespace: string;
  readonly hostSetupFile: string;
  readonly rulesetFile: string;
  readonly sandboxSetupFile: string;
  /** `cgroup.procs` of every cgroup the sandbox joins. */
  readonly cgroupProcs: readonly string[];
  readonly argsFile: string;
  readonly command: readonly string[];
  readonly logFile: string;
  readonly statusFile: string;
  readonly token?: string;
}

export interface StartedSandbox {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Read before the event loop can reap it, so even an instantly exiting agent has one. */
  readonly startTime: string;
  readonly initPid: number;
}

const START_TIMEOUT_MS = 15_000;

/**
 * One spawn from the gateway does the whole start (a fork of a large Node process costs
 * several milliseconds; dash forks are cheap). In order: join the cgroups, so every later
 * process is counted; create the (empty) netns. Then two things run at once: a background
 * job creates the veth pair (the sandbox end down), loads the firewall and only then brings
 * the links up, while the shell execs bubblewrap inside the netns (nsenter execs in place,
 * so the spawned pid becomes bubblewrap's monitor). The gateway writes the gate only after
 * it has seen the job report `ready`. A command started with `--block-fd` (bubblewrap holds
 * it back until then) never runs on a network that is not configured; the agent instead
 * starts at once and waits on the gate itself before its first connection, so node's start-up
 * overlaps the network set-up. Either way the firewall is in place before any link is up,
 * and until the veth exists the netns has no interface but a down `lo`. Arguments arrive as
 * positional parameters; nothing is interpolated into the script text.
 */
const START_SCRIPT = `
ip=$1 nsenter=$2 nft=$3 ns=$4 host_setup=$5 ruleset=$6 sandbox_setup=$7
shift 7
while [ "$1" != -- ]; do
  echo $$ > "$1" || { echo "openshell: cannot join cgroup $1" >&2; exit 120; }
  shift
done
shift
"$ip" netns add "$ns" || { echo "openshell: creating the netns failed" >&2; exit 123; }
{
  if ! "$ip" -b "$host_setup"; then
    echo "openshell: creating the veth pair failed" >&2; echo "fail veth" >&${String(FD.gate)}
  elif ! "$nsenter" --net="/run/netns/$ns" -- "$nft" -f "$ruleset"; then
    echo "openshell: loading the netns firewall failed" >&2; echo "fail nftables" >&${String(FD.gate)}
  elif ! "$ip" -n "$ns" -b "$sandbox_setup"; then
    echo "openshell: configuring the netns links failed" >&2; echo "fail netns links" >&${String(FD.gate)}
  else
    echo ready >&${String(FD.gate)}
  fi
} &
exec "$nsenter" --net="/run/netns/$ns" -- "$@"
`;

const STAGE_BY_EXIT: Readonly<Record<number, string>> = { 120: 'cgroup', 123: 'netns' };

/**
 * Spawns the sandbox detached (own session; the pipes back to the gateway are only used
 * during start), so its tree survives the gateway exiting. Resolves when bubblewrap has
 * reported the pid of its namespace init and the network is configured.
 */
export async function startSandbox(inputs: StartInputs): Promise<StartedSandbox> {
  const { tools } = inputs;
  const logFd = openSync(inputs.logFile, 'a', 0o600);
  const statusFd = openSync(inputs.statusFile, 'a', 0o600);
  const argsFd = openSync(inputs.argsFile, 'r');
  let child: ChildProcess;
  try {
    child = spawn(
      tools.sh,
      [
        '-c',
        START_SCRIPT,
        'openshell-start',
        tools.ip,
        tools.nsenter,
        tools.nft,
        inputs.namespace,
        inputs.hostSetupFile,
        inputs.rulesetFile,
        inputs.sandboxSetupFile,
        ...inputs.cgroupProcs,
        '--',
        tools.bwrap,
        '--args',
        String(FD.args),
        '--',
        ...inputs.command,
      ],
      {
        detached: true,
        env: TOOL_ENV,
        // Index = fd number in the child; keep in step with FD in build-bwrap-args.ts.
        stdio: [
          'ignore',
          logFd,
          logFd,
          inputs.token === undefined ? 'ignore' : 'pipe',
          'pipe',
          statusFd,
          argsFd,
          'pipe',
        ],
      },
    );
  } finally {
    for (const fd of [logFd, statusFd, argsFd]) closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.once('error', () => undefined); // Reported by the throw below instead.
    throw new OpenShellError('ERR_HOST_UNSUPPORTED', `cannot run ${tools.sh}`, {
      details: { stage: 'spawn' },
    });
  }
  const startTime = readStartTimeSync(pid);
  const tokenPipe = child.stdio[FD.token] as Writable | null;
  const infoPipe = child.stdio[FD.info] as Readable | null;
  // ChildProcess.stdio is typed as a 5-tuple; fds past 4 exist at run time.
  const gatePipe = (child.stdio as readonly unknown[])[FD.gate] as Duplex | null;
  if (infoPipe === null || gatePipe === null) {
    throw new OpenShellError('ERR_INTERNAL', 'start pipes were not created');
  }
  // A reset on a pipe only means the sandbox side closed its end (the agent exited without
  // reading the token, bubblewrap finished with a fd); the outcome is reported through the
  // info document, the gate or the exit status instead.
  for (const pipe of [tokenPipe, infoPipe, gatePipe]) pipe?.on('error', () => undefined);
  if (inputs.token !== undefined && tokenPipe !== null) {
    // The token waits in the socket buffer until the agent reads fd 3; it never touches
    // disk, argv or the environment. Our end is closed once written, so the agent sees EOF.
    tokenPipe.end(inputs.token, () => tokenPipe.destroy());
  }
  try {
    const initPid = await waitForStart(child, infoPipe, gatePipe, inputs.logFile);
    // Releases bubblewrap's `--block-fd` wait (the command execs now) or the agent's own.
    gatePipe.end('1');
    return { child, pid, startTime, initPid };
  } finally {
    infoPipe.destroy();
    child.unref();
  }
}

/** Start time of a child that cannot have been reaped yet (zombie or not); see proc(5). */
function readStartTimeSync(pid: number): string {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/** Resolves with the init pid once bubblewrap's info and the network job's `ready` are in. */
function waitForStart(
  child: ChildProcess,
  info: Readable,
  gate: Duplex,
  logFile: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let infoText = '';
    let gateText = '';
    let initPid: number | undefined;
    let ready = false;
    let settled = false;
    const timer = setTimeout(function onStartTimeout() {
      child.kill('SIGKILL');
      fail(`the sandbox did not start within ${String(START_TIMEOUT_MS)} ms`, 'timeout');
    }, START_TIMEOUT_MS);

    function fail(message: string, stage: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const log = readFileSync(logFile, 'utf8').slice(-2000);
      reject(
        new OpenShellError('ERR_COMPUTE_DRIVER_FAILED', `${message}: ${log.trim()}`, {
          details: { stage, log },
        }),
      );
    }
    function settleIfDone(): void {
      if (settled || initPid === undefined || !ready) return;
      settled = true;
      clearTimeout(timer);
      resolve(initPid);
    }

    info.on('data', function onInfo(chunk: Buffer) {
      infoText += chunk.toString('utf8');
      let parsed: { 'child-pid'?: unknown };
      try {
        parsed = JSON.parse(infoText) as { 'child-pid'?: unknown };
      } catch {
        return; // Not the whole JSON document yet.
      }
      if (typeof parsed['child-pid'] !== 'number') {
        fail('bubblewrap info has no child-pid', 'bubblewrap');
        return;
      }
      initPid = parsed['child-pid'];
      settleIfDone();
    });
    gate.on('data', function onGate(chunk: Buffer) {
      gateText += chunk.toString('utf8');
      const line = gateText.split('\n')[0] ?? '';
      if (!gateText.includes('\n')) return;
      if (line === 'ready') {
        ready = true;
        settleIfDone();
      } else {
        fail(`sandbox network setup failed (${line})`, line.replace(/^fail /, ''));
      }
    });
    child.once('error', (cause) => {
      fail(`cannot start: ${cause.message}`, 'spawn');
    });
    // 'close' (not 'exit', which can fire before buffered pipe data is read): the process
    // chain ended before both signals arrived, so it failed; its exit code names the stage.
    child.once('close', function onEarlyClose(code, signal) {
      const stage = STAGE_BY_EXIT[code ?? -1] ?? 'bubblewrap';
      fail(`sandbox start failed at ${stage} (exit ${String(code ?? signal)})`, stage);
    });
  });
}
