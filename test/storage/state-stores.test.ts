import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_STORES } from '../../services/storage/sql/state-stores.js';

/*
 * With DATABASE_URL every store's state is in PostgreSQL. The list of how each store gets there must
 * not forget one: every file outside services/storage that takes the SQLite handle is in it.
 */

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the list of stores and their engines', () => {
  it('names every file outside services/storage that uses the SQLite handle', () => {
    const usingSqlite = sources('services')
      .filter((file) => !file.startsWith(join('services', 'storage')))
      .filter((file) => /from '(\.\.\/)+storage\/database\.js'/.test(readFileSync(join(ROOT, file), 'utf8')))
      .map((file) => relative('.', file).split('\\').join('/'))
      .sort();
    const listed = STATE_STORES.flatMap((store) => store.files);
    expect(usingSqlite.filter((file) => !listed.includes(file))).toEqual([]);
    expect(usingSqlite.length).toBeGreaterThan(20);
  });

  it('names only files that exist, each once', () => {
    const listed = STATE_STORES.flatMap((store) => store.files);
    expect(new Set(listed).size).toBe(listed.length);
    for (const file of listed) expect(() => readFileSync(join(ROOT, file)), file).not.toThrow();
  });
});
