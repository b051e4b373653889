import { nextActionFilter, type LogFilterSpec } from './log-buffer.js';

export type PaneView = 'details' | 'logs' | 'policy';

/** Everything the keyboard changes; sandboxes and log lines live in their own reducers. */
export interface TermUiState {
  /** Selected sandbox id; `selectedIndex` keeps the place when that sandbox disappears. */
  readonly selectedId: string | undefined;
  readonly selectedIndex: number;
  readonly view: PaneView;
  /** `list`: j/k move the selection; `pane`: j/k scroll the logs or the policy. */
  readonly focus: 'list' | 'pane';
  /** Logs stick to the newest line; scrolling up turns it off, `f` turns it back on. */
  readonly follow: boolean;
  /** Log rows above the newest the view ends at (0 when following). */
  readonly logScroll: number;
  readonly policyScroll: number;
  readonly filter: LogFilterSpec;
  /** Set while typing a `/` filter; Enter applies it, Esc drops it. */
  readonly filterDraft: string | undefined;
  /** Name of the sandbox a `d` asks to delete, until y or n. */
  readonly confirmDelete: string | undefined;
  readonly help: boolean;
}

export const INITIAL_UI_STATE: TermUiState = {
  selectedId: undefined,
  selectedIndex: 0,
  view: 'details',
  focus: 'list',
  follow: true,
  logScroll: 0,
  policyScroll: 0,
  filter: { action: 'all', text: '' },
  filterDraft: undefined,
  confirmDelete: undefined,
  help: false,
};

/** A key as ink's useInput reports it, reduced to what the dashboard reads. */
export interface KeyPress {
  readonly input: string;
  readonly upArrow?: boolean;
  readonly downArrow?: boolean;
  readonly pageUp?: boolean;
  readonly pageDown?: boolean;
  readonly return?: boolean;
  readonly escape?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly ctrl?: boolean;
}

export interface KeyContext {
  /** Sandbox ids and names in panel order. */
  readonly sandboxes: readonly { readonly id: string; readonly name: string }[];
  /** Rows the pane shows, for page-sized scrolling. */
  readonly pageRows: number;
}

export type KeyEffect =
  { readonly kind: 'quit' } | { readonly kind: 'delete'; readonly name: string };

export interface KeyResult {
  readonly state: TermUiState;
  readonly effect?: KeyEffect;
}

/** Index of the selected sandbox in `ids`, clamped so it is valid whenever the list is not empty. */
export function resolveSelection(
  state: Pick<TermUiState, 'selectedId' | 'selectedIndex'>,
  ids: readonly string[],
): number {
  const found = state.selectedId === undefined ? -1 : ids.indexOf(state.selectedId);
  if (found !== -1) return found;
  return Math.max(0, Math.min(state.selectedIndex, ids.length - 1));
}

/** What one key press does: the next UI state and, for q/Ctrl-C and a confirmed d, an effect. */
export function reduceKey(state: TermUiState, key: KeyPress, ctx: KeyContext): KeyResult {
  if (key.ctrl === true && key.input === 'c') return { state, effect: { kind: 'quit' } };
  if (state.confirmDelete !== undefined) return reduceConfirm(state, key);
  if (state.filterDraft !== undefined) return { state: reduceFilterDraft(state, key) };
  if (state.help) {
    // Any key closes the overlay; q still quits so the user is never stuck.
    if (key.input === 'q') return { state, effect: { kind: 'quit' } };
    return { state: { ...state, help: false } };
  }
  const ids = ctx.sandboxes.map((s) => s.id);
  const index = resolveSelection(state, ids);
  const selected = ctx.sandboxes[index];
  const up = key.upArrow === true || key.input === 'k';
  const down = key.downArrow === true || key.input === 'j';

  if (key.input === 'q') return { state, effect: { kind: 'quit' } };
  if (key.input === '?') return { state: { ...state, help: true } };
  if (key.escape === true) return { state: { ...state, focus: 'list' } };
  if (key.return === true) return { state: { ...state, view: 'details', focus: 'pane' } };
  if (key.input === 'l') return { state: { ...state, view: 'logs', focus: 'pane' } };
  if (key.input === 'p')
    return { state: { ...state, view: 'policy', focus: 'pane', policyScroll: 0 } };
  if (key.input === 'f') {
    return { state: { ...state, follow: !state.follow, logScroll: 0, view: 'logs' } };
  }
  if (key.input === 'a') {
    return {
      state: {
        ...state,
        filter: { ...state.filter, action: nextActionFilter(state.filter.action) },
      },
    };
  }
  if (key.input === '/')
    return { state: { ...state, filterDraft: state.filter.text, view: 'logs' } };
  if (key.input === 'd') {
    return { state: selected === undefined ? state : { ...state, confirmDelete: selected.name } };
  }
  if (up || down || key.pageUp === true || key.pageDown === true) {
    return { state: moveOrScroll(state, key, ctx, index, up) };
  }
  return { state };
}

function moveOrScroll(
  state: TermUiState,
  key: KeyPress,
  ctx: KeyContext,
  index: number,
  up: boolean,
): TermUiState {
  const page = Math.max(1, ctx.pageRows - 1);
  const step = key.pageUp === true ? -page : key.pageDown === true ? page : up ? -1 : 1;
  if (state.focus === 'list' || state.view === 'details') {
    const next = ctx.sandboxes[Math.max(0, Math.min(ctx.sandboxes.length - 1, index + step))];
    if (next === undefined) return state;
    const nextIndex = ctx.sandboxes.indexOf(next);
    // A different sandbox has a different log and policy: start both from their newest/top.
    const changed = next.id !== state.selectedId;
    return {
      ...state,
      selectedId: next.id,
      selectedIndex: nextIndex,
      ...(changed ? { logScroll: 0, follow: true, policyScroll: 0 } : {}),
    };
  }
  if (state.view === 'policy') {
    return { ...state, policyScroll: Math.max(0, state.policyScroll + step) };
  }
  // Logs: scrolling up (back in time) leaves follow mode; reaching the bottom resumes it.
  const logScroll = Math.max(0, state.logScroll - step);
  return { ...state, logScroll, follow: logScroll === 0 };
}

function reduceConfirm(state: TermUiState, key: KeyPress): KeyResult {
  const name = state.confirmDelete;
  const cleared = { ...state, confirmDelete: undefined };
  if ((key.input === 'y' || key.input === 'Y') && name !== undefined) {
    return { state: cleared, effect: { kind: 'delete', name } };
  }
  if (key.input === 'n' || key.input === 'N' || key.escape === true || key.input === 'q') {
    return { state: cleared };
  }
  // Anything else keeps asking: a stray key must not delete or silently cancel.
  return { state };
}

function reduceFilterDraft(state: TermUiState, key: KeyPress): TermUiState {
  const draft = state.filterDraft ?? '';
  if (key.escape === true) return { ...state, filterDraft: undefined };
  if (key.return === true) {
    return {
      ...state,
      filterDraft: undefined,
      filter: { ...state.filter, text: draft },
      logScroll: 0,
    };
  }
  if (key.backspace === true || key.delete === true) {
    return { ...state, filterDraft: draft.slice(0, -1) };
  }
  // eslint-disable-next-line no-control-regex -- control keys must not become filter text
  if (key.ctrl === true || key.input === '' || /[\u0000-\u001f\u007f]/.test(key.input))
    return state;
  return { ...state, filterDraft: draft + key.input };
}
