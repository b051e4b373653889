/**
 * Renders rows under headers as aligned columns separated by two spaces, like `kubectl get`
 * (REFERENCE.md's `NAME  CREATED  PHASE`). The last column is not padded, so lines carry no
 * trailing blanks. Width counts code points, so `✓` or accented names stay aligned.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) =>
    Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)),
  );
  const renderRow = (cells: readonly string[]): string =>
    headers
      .map((_, i) => {
        const cell = cells[i] ?? '';
        return i === headers.length - 1
          ? cell
          : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length);
      })
      .join('  ')
      .trimEnd();
  return `${[headers, ...rows].map(renderRow).join('\n')}\n`;
}
