/**
 * The before/after summary of an update: only the top-level fields that changed (timestamps
 * aside), so the audit log says "name: A → B" rather than repeating whole records.
 */
export function changes(
  before: object,
  after: object,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const was: Record<string, unknown> = {};
  const now: Record<string, unknown> = {};
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (key === 'updatedAt' || key === 'status') continue;
    if (JSON.stringify(b[key]) === JSON.stringify(a[key])) continue;
    was[key] = b[key];
    now[key] = a[key];
  }
  return { before: was, after: now };
}

/** A short identification of a record for create and delete entries. */
export function summary(record: { id: string; name?: string; username?: string }): Record<string, string> {
  return Object.fromEntries(
    Object.entries({ id: record.id, name: record.name, username: record.username }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as Record<string, string>;
}
