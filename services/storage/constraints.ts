import { ConflictError } from '../errors.js';

/** What to say when a write breaks a constraint, in the words of the store's records. */
export interface ConstraintWords {
  /** The primary key is taken. */
  duplicateId?: string;
  /** A UNIQUE index: a name or an address already used. */
  duplicate?: string;
  /** A foreign key (a missing reference) or ON DELETE RESTRICT (still referenced): a 409, or this error. */
  reference?: string | (() => Error);
}

/**
 * Runs a write, turning SQLite's constraint failures into answers that say what clashed (409, or
 * the error given for a reference); any other failure is thrown as it came.
 */
export function translateConstraint<T>(words: ConstraintWords, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && words.duplicateId)
      throw new ConflictError(words.duplicateId);
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' && words.duplicate) throw new ConflictError(words.duplicate);
    // ON DELETE RESTRICT reports as a trigger constraint, a dangling reference as a foreign key one.
    if ((code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === 'SQLITE_CONSTRAINT_TRIGGER') && words.reference)
      throw typeof words.reference === 'string' ? new ConflictError(words.reference) : words.reference();
    throw error;
  }
}

/** Which kind of constraint a write broke, in SQLite's or PostgreSQL's words; null for any other error. */
function brokenConstraint(error: unknown): 'primary' | 'unique' | 'reference' | null {
  const { code = '', constraint = '' } = (error ?? {}) as { code?: string; constraint?: string };
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'primary';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === 'SQLITE_CONSTRAINT_TRIGGER') return 'reference';
  // PostgreSQL's SQLSTATEs: 23505 unique_violation (a primary key's index is named <table>_pkey),
  // 23503 foreign_key_violation (a missing reference, or one still referenced).
  if (code === '23505') return constraint.endsWith('_pkey') ? 'primary' : 'unique';
  if (code === '23503') return 'reference';
  return null;
}

/** translateConstraint for a write through the query layer, on either engine. */
export async function translateConstraintAsync<T>(
  words: ConstraintWords,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const kind = brokenConstraint(error);
    if (kind === 'primary' && words.duplicateId) throw new ConflictError(words.duplicateId);
    if (kind === 'unique' && words.duplicate) throw new ConflictError(words.duplicate);
    if (kind === 'reference' && words.reference)
      throw typeof words.reference === 'string' ? new ConflictError(words.reference) : words.reference();
    throw error;
  }
}
