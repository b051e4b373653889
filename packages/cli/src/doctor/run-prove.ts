import { OpenShellError } from '@openshell/policy-schema';
import type { Progress } from '../render/progress.js';
import type { AttemptSpec, HostFacts, ProveContext } from './attempt-spec.js';
import { PROVE_BOUND_HOST, PROVE_SCRATCH } from './build-prove-context.js';
import { PROVE_ATTEMPTS, buildProveScript, parseProveOutput } from './prove-script.js';
import { summarizeAttempts } from './prove-summary.js';
import type { AttemptOutcome, PolicyUnderTest, ProveReport } from './prove-types.js';

export interface ExecOutput {
  readonly code: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the proof needs from the host the CLI runs on. */
export interface HostProbe {
  /** True when the gateway (so the sandbox) runs on this host. */
  readonly local: boolean;
  /** Plants an empty marker in the host /tmp; resolves with its undo. */
  plantTmpMarker(name: string): Promise<() => Promise<void>>;
  /** Removes /tmp/NAME if it exists and says whether it did. */
  takeTmpFile(name: string): Promise<boolean>;
  /** Entry names of /root, or undefined when they cannot be listed. */
  listRoot(): Promise<string[] | undefined>;
  countProcesses(): Promise<number>;
}

/** The gateway operations of one proof (real ones in gateway-prove-deps.ts, fakes in tests). */
export interface ProveDeps {
  createProvider(name: string, key: string, value: string, allowedHosts: string[]): Promise<void>;
  deleteProvider(name: string): Promise<void>;
  /** Creates the sandbox and resolves once it is Ready. */
  createSandbox(request: {
    name: string;
    policy: PolicyUnderTest;
    providers: string[];
    pidsMax: number;
    memoryBytes: number;
  }): Promise<void>;
  deleteSandbox(name: string): Promise<void>;
  upload(sandbox: string, localFile: string, destDir: string): Promise<void>;
  exec(sandbox: string, argv: string[], timeoutMs: number): Promise<ExecOutput>;
  readonly host: HostProbe;
  readonly progress: Progress;
  /** Cleanup failures: said, never thrown over the report. */
  warn(message: string): void;
  now(): number;
}

export interface ProveOptions {
  readonly policy: PolicyUnderTest;
  readonly context: ProveContext;
  /** Host path of the built probe binary. */
  readonly probePath: string;
  /** Aborts the run (Ctrl-C); cleanup still runs before the promise rejects. */
  readonly signal?: AbortSignal;
  readonly attempts?: readonly AttemptSpec[];
}

const SCRIPT_TIMEOUT_MS = 60_000;

/** Rejects as soon as `signal` aborts, so a Ctrl-C does not wait for a slow RPC. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(new OpenShellError('ERR_INTERNAL', 'doctor --prove was interrupted'));
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function judgeAll(
  attempts: readonly AttemptSpec[],
  stdout: string,
  ctx: ProveContext,
  host: HostFacts,
): AttemptOutcome[] {
  const records = parseProveOutput(stdout);
  return attempts.map((spec) => {
    const base = { id: spec.id, category: spec.category, attempt: spec.attempt };
    const record = records.get(spec.id);
    if (record?.get('end') !== '1') {
      return {
        ...base,
        result: 'error',
        layer: null,
        detail: 'the attempt did not run to the end',
      };
    }
    try {
      return { ...base, ...spec.judge(record, ctx, host) };
    } catch (error) {
      // A judge that throws has no verdict: report it, never count it as blocked.
      return { ...base, result: 'error', layer: null, detail: `cannot judge: ${String(error)}` };
    }
  });
}

/**
 * Runs the escape attempts in a throwaway sandbox: plants the host /tmp marker, creates a
 * throwaway provider (a dummy secret, so no real credential is ever exposed to the proof)
 * and the sandbox under the policy being proven, uploads the probe, runs every attempt in
 * one Exec, and judges the output. The sandbox, the provider and the marker are removed on
 * every way out — success, failure or abort.
 */
export async function runProve(options: ProveOptions, deps: ProveDeps): Promise<ProveReport> {
  const { context: ctx, signal } = options;
  const attempts = options.attempts ?? PROVE_ATTEMPTS;
  const started = deps.now();
  const name = `openshell-prove-${ctx.tag}`;
  const undo: Array<{ what: string; run: () => Promise<unknown> }> = [];
  const step = <T>(message: string, work: () => Promise<T>): Promise<T> => {
    deps.progress.step(message);
    return untilAborted(work(), signal);
  };
  try {
    const removeMarker = await deps.host.plantTmpMarker(ctx.hostTmpMarker);
    undo.unshift({ what: `/tmp/${ctx.hostTmpMarker}`, run: removeMarker });
    await step('Creating a throwaway provider', () =>
      deps.createProvider(name, ctx.credential.envKey, ctx.credential.dummy, [PROVE_BOUND_HOST]),
    );
    undo.unshift({ what: `provider ${name}`, run: () => deps.deleteProvider(name) });
    // Registered before the call: a create interrupted mid-way must still be deleted.
    undo.unshift({ what: `sandbox ${name}`, run: () => deps.deleteSandbox(name) });
    await step(`Creating sandbox ${name} (policy: ${options.policy.label})`, () =>
      deps.createSandbox({
        name,
        policy: options.policy,
        providers: [name],
        pidsMax: ctx.pidsMax,
        memoryBytes: ctx.memoryMiB * 1024 * 1024,
      }),
    );
    await step('Uploading the probe', () => deps.upload(name, options.probePath, PROVE_SCRATCH));
    const before = {
      local: deps.host.local,
      rootEntries: await deps.host.listRoot(),
      pidCount: await deps.host.countProcesses(),
    };
    const script = buildProveScript(ctx, attempts);
    const out = await step(`Running ${String(attempts.length)} escape attempts`, () =>
      deps.exec(name, ['sh', '-c', script], SCRIPT_TIMEOUT_MS),
    );
    if (out.code === undefined && out.signal !== undefined && !out.stdout.includes('@')) {
      throw new OpenShellError(
        'ERR_INTERNAL',
        `the attempt script was killed by ${out.signal} before reporting; stderr: ${out.stderr.slice(0, 500)}`,
      );
    }
    const leaked = await deps.host.takeTmpFile(`${ctx.hostTmpMarker}-inside`);
    const outcomes = judgeAll(attempts, out.stdout, ctx, { ...before, tmpWriteLeaked: leaked });
    return {
      sandbox: name,
      policy: options.policy.label,
      attempts: outcomes,
      summary: summarizeAttempts(outcomes),
      durationMs: deps.now() - started,
    };
  } finally {
    deps.progress.step('Deleting the throwaway sandbox');
    for (const { what, run } of undo) {
      await run().catch((error: unknown) => {
        deps.warn(`could not remove ${what}: ${String(error)}`);
      });
    }
    deps.progress.stop();
  }
}
