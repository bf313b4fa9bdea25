import type { Key, ReactNode } from 'react';
import type { ApiError } from '../api/client';
import { ErrorMessage } from './error-message';

export interface Column<T> {
  /** The column's heading; a table none of whose columns has one is drawn without a header row. */
  header?: string;
  cell: (row: T) => ReactNode;
  /** The cell that names the row: a `<th scope="row">`, which a screen reader reads with every other cell. */
  names?: boolean;
  className?: string;
  /** Data attributes of the cell: the code behind the words it shows. */
  data?: (row: T) => DataAttributes;
}

type DataAttributes = { [data: `data-${string}`]: string | undefined };

/** What a row carries besides its cells: a class, and data attributes the tests and live views find it by. */
export type RowAttributes = { className?: string } & DataAttributes;

/**
 * A console list: the refusal to show if the list (or an action on it) failed, then the table in
 * its scrolling wrapper. `rows` is undefined until the list arrives. With `empty`, a list that
 * arrived with nothing in it says so instead of drawing a table; without it, the header stands alone.
 * A column given as `false` is left out (a commune column where the account reaches only one).
 */
export function DataTable<T>({
  columns,
  rows,
  rowKey,
  rowAttributes,
  empty,
  error,
  testId,
}: {
  columns: (Column<T> | false)[];
  rows: readonly T[] | undefined;
  rowKey: (row: T) => Key;
  rowAttributes?: (row: T) => RowAttributes;
  empty?: string;
  error?: ApiError | null;
  testId?: string;
}) {
  const shown = columns.filter((column): column is Column<T> => column !== false);
  const headed = shown.some((column) => column.header !== undefined);
  const table =
    empty !== undefined && !rows?.length ? null : (
      <div className="table-wrap">
        <table data-testid={testId}>
          {headed ? (
            <thead>
              <tr>
                {shown.map((column, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a heading is known by its column's place
                  <th key={i} scope="col">
                    {column.header}
                  </th>
                ))}
              </tr>
            </thead>
          ) : null}
          <tbody>
            {rows?.map((row) => (
              <tr key={rowKey(row)} {...rowAttributes?.(row)}>
                {shown.map((column, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a cell is known by its column's place
                  <Cell key={i} column={column} row={row} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <>
      <ErrorMessage error={error ?? null} />
      {empty !== undefined && rows?.length === 0 ? <p>{empty}</p> : null}
      {table}
    </>
  );
}

function Cell<T>({ column, row }: { column: Column<T>; row: T }) {
  return column.names ? (
    <th scope="row" className={column.className} {...column.data?.(row)}>
      {column.cell(row)}
    </th>
  ) : (
    <td className={column.className} {...column.data?.(row)}>
      {column.cell(row)}
    </td>
  );
}
