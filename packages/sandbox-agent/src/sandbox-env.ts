/** What the agent knows about its sandbox, from its command line (never from the spec). */
export interface SandboxConfig {
  /** cwd and HOME of every process; `/sandbox` inside a sandbox. */
  readonly home: string;
  /** The egress proxy every process is pointed at (`http://10.200.0.1:3128`). */
  readonly proxyUrl?: string | undefined;
  /** Comma-separated NO_PROXY; default `localhost,127.0.0.1,::1` when a proxy is set. */
  readonly noProxy?: string | undefined;
  /** The sandbox CA bundle (system roots + the proxy's CA) that TLS clients must trust. */
  readonly caBundle?: string | undefined;
  /** Directories uploads may extract into (DESIGN §2: `/sandbox` and `/tmp`). */
  readonly uploadRoots: readonly string[];
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_NO_PROXY = 'localhost,127.0.0.1,::1';

/** Variables each CA-aware runtime reads: OpenSSL, Node, Python requests, curl, git. */
const CA_VARIABLES = [
  'SSL_CERT_FILE',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
] as const;

/** The variables the agent sets itself (DESIGN §3 step 4); a spec cannot override them. */
function buildManagedEnv(config: SandboxConfig): Record<string, string> {
  const env: Record<string, string> = { HOME: config.home, OPENSHELL_SANDBOX: '1' };
  if (config.proxyUrl !== undefined) {
    const noProxy = config.noProxy ?? DEFAULT_NO_PROXY;
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) {
      env[name] = config.proxyUrl;
      env[name.toLowerCase()] = config.proxyUrl;
    }
    env.NO_PROXY = noProxy;
    env.no_proxy = noProxy;
    // Node 20.18+/22.x only honour *_PROXY for fetch/http when asked to.
    env.NODE_USE_ENV_PROXY = '1';
  }
  if (config.caBundle !== undefined) {
    for (const name of CA_VARIABLES) env[name] = config.caBundle;
  }
  return env;
}

/**
 * The complete environment of a sandboxed process: defaults (PATH, TERM on a terminal), then
 * the spec's variables (provider placeholders, `--env`), then the agent's managed variables,
 * which win — a spec that unsets the proxy or the CA bundle would only break the process,
 * and OPENSHELL_SANDBOX must stay truthful. Nothing comes from the agent's own environment.
 */
export function buildSandboxEnv(
  config: SandboxConfig,
  specEnv: Readonly<Record<string, string>>,
  options: { readonly tty: boolean },
): Record<string, string> {
  const defaults: Record<string, string> = { PATH: DEFAULT_PATH };
  if (options.tty) defaults.TERM = 'xterm-256color';
  return { ...defaults, ...specEnv, ...buildManagedEnv(config) };
}
