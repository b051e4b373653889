import { describe, expect, test } from 'vitest';
import {
  INITIAL_UI_STATE,
  reduceKey,
  resolveSelection,
  type KeyContext,
  type KeyPress,
  type TermUiState,
} from './term-ui-state.js';

const ctx: KeyContext = {
  sandboxes: [
    { id: 'a', name: 'alpha' },
    { id: 'b', name: 'beta' },
    { id: 'c', name: 'gamma' },
  ],
  pageRows: 5,
};

function press(keys: readonly KeyPress[], from: TermUiState = INITIAL_UI_STATE) {
  let state = from;
  let effect;
  for (const key of keys) {
    const result = reduceKey(state, key, ctx);
    state = result.state;
    effect = result.effect;
  }
  return {
    state,
    effect,
    index: resolveSelection(
      state,
      ctx.sandboxes.map((s) => s.id),
    ),
  };
}

describe('reduceKey', () => {
  test.each<[string, KeyPress[], number]>([
    ['j moves down', [{ input: 'j' }], 1],
    ['down arrow moves down', [{ input: '', downArrow: true }], 1],
    ['k after j moves back up', [{ input: 'j' }, { input: 'k' }], 0],
    ['up arrow at the top stays', [{ input: '', upArrow: true }], 0],
    ['j past the end stays on the last', [{ input: 'j' }, { input: 'j' }, { input: 'j' }], 2],
    ['page down jumps and clamps', [{ input: '', pageDown: true }], 2],
  ])('%s', (_name, keys, index) => {
    expect(press(keys).index).toBe(index);
  });

  test.each<[string, KeyPress, Partial<TermUiState>]>([
    ['Enter opens details', { input: '', return: true }, { view: 'details', focus: 'pane' }],
    ['l opens the log', { input: 'l' }, { view: 'logs', focus: 'pane' }],
    ['p opens the policy', { input: 'p' }, { view: 'policy', focus: 'pane' }],
    ['? opens help', { input: '?' }, { help: true }],
    ['/ starts a filter', { input: '/' }, { filterDraft: '', view: 'logs' }],
    ['a cycles the action filter', { input: 'a' }, { filter: { action: 'deny', text: '' } }],
    ['f pauses follow', { input: 'f' }, { follow: false, view: 'logs' }],
    ['d asks to delete the selected sandbox', { input: 'd' }, { confirmDelete: 'alpha' }],
  ])('%s', (_name, key, expected) => {
    expect(press([key]).state).toMatchObject(expected);
  });

  test.each<[string, KeyPress]>([
    ['q', { input: 'q' }],
    ['Ctrl-C', { input: 'c', ctrl: true }],
  ])('%s quits', (_name, key) => {
    expect(press([key]).effect).toEqual({ kind: 'quit' });
  });

  test('d then y deletes the selected sandbox; n, Esc cancel; other keys keep asking', () => {
    const asked = press([{ input: 'j' }, { input: 'd' }]).state;
    expect(press([{ input: 'y' }], asked)).toMatchObject({
      effect: { kind: 'delete', name: 'beta' },
      state: { confirmDelete: undefined },
    });
    expect(press([{ input: 'n' }], asked)).toMatchObject({
      effect: undefined,
      state: { confirmDelete: undefined },
    });
    expect(press([{ input: '', escape: true }], asked).state.confirmDelete).toBeUndefined();
    expect(press([{ input: 'j' }], asked)).toMatchObject({
      effect: undefined,
      state: { confirmDelete: 'beta' },
    });
  });

  test('d with no sandboxes asks nothing', () => {
    expect(
      reduceKey(INITIAL_UI_STATE, { input: 'd' }, { sandboxes: [], pageRows: 5 }).state
        .confirmDelete,
    ).toBeUndefined();
  });

  test('typing a filter: letters append, backspace deletes, Enter applies, Esc discards', () => {
    const typed = press([
      { input: '/' },
      { input: 'e' },
      { input: 'v' },
      { input: 'x' },
      { input: '', backspace: true },
    ]);
    expect(typed.state.filterDraft).toBe('ev');
    // While typing, q and j are text, not quit or move.
    const withQ = press([{ input: 'q' }, { input: 'j' }], typed.state);
    expect(withQ.effect).toBeUndefined();
    expect(withQ.state.filterDraft).toBe('evqj');
    expect(press([{ input: '', return: true }], typed.state).state).toMatchObject({
      filterDraft: undefined,
      filter: { action: 'all', text: 'ev' },
    });
    expect(press([{ input: '', escape: true }], typed.state).state).toMatchObject({
      filterDraft: undefined,
      filter: { action: 'all', text: '' },
    });
  });

  test('in the log pane k scrolls back and pauses follow; scrolling to the bottom resumes it', () => {
    const logs = press([{ input: 'l' }, { input: 'k' }, { input: 'k' }]).state;
    expect(logs).toMatchObject({ logScroll: 2, follow: false, selectedId: undefined });
    expect(press([{ input: 'j' }, { input: 'j' }], logs).state).toMatchObject({
      logScroll: 0,
      follow: true,
    });
  });

  test('in the policy pane j scrolls the policy, Esc gives j back to the list', () => {
    const policy = press([{ input: 'p' }, { input: 'j' }, { input: 'j' }]);
    expect(policy.state.policyScroll).toBe(2);
    expect(policy.index).toBe(0);
    expect(press([{ input: '', escape: true }, { input: 'j' }], policy.state).index).toBe(1);
  });

  test('help: any key closes it, q still quits', () => {
    const help = press([{ input: '?' }]).state;
    expect(press([{ input: 'x' }], help)).toMatchObject({
      state: { help: false },
      effect: undefined,
    });
    expect(press([{ input: 'q' }], help).effect).toEqual({ kind: 'quit' });
  });
});

describe('resolveSelection', () => {
  test.each<[string | undefined, number, string[], number]>([
    ['b', 0, ['a', 'b', 'c'], 1],
    // The selected sandbox was deleted: keep the place, clamped to the shorter list.
    ['gone', 2, ['a', 'b'], 1],
    ['gone', 1, ['a', 'b', 'c'], 1],
    [undefined, 0, [], 0],
  ])('id %s at %i in %j → %i', (selectedId, selectedIndex, ids, expected) => {
    expect(resolveSelection({ selectedId, selectedIndex }, ids)).toBe(expected);
  });
});
