/** A bulletin from the province, on its own page: each commune's receipt, live. */
export function bulletinPath(id: string): string {
  return `/province/bulletins/${encodeURIComponent(id)}`;
}
