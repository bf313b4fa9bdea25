import type { InputHTMLAttributes, ReactNode } from 'react';

type InputAttributes = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'children'>;

/**
 * An input inside its label (a tap on the words focuses it), reporting its text as typed; the
 * input's own attributes (required, type, maxLength, autoComplete…) pass through. `children`
 * follow the input: a hint or the reason it is refused.
 */
export function TextField({
  label,
  value,
  onChange,
  testId,
  children,
  ...input
}: InputAttributes & {
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  testId?: string;
  children?: ReactNode;
}) {
  return (
    <label>
      {label}
      <input
        {...input}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        data-testid={testId}
      />
      {children}
    </label>
  );
}

/** A checkbox inside its label (class `check`, unless `plain` as in a list of checks). */
export function CheckField({
  label,
  checked,
  onChange,
  testId,
  plain,
}: {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  testId: string;
  plain?: boolean;
}) {
  return (
    <label className={plain ? undefined : 'check'}>
      <input
        type="checkbox"
        checked={checked}
        onChange={(event) => onChange(event.target.checked)}
        data-testid={testId}
      />
      {label}
    </label>
  );
}

/** A checkbox for each option (test ids `<testId>-<id>`), reporting the chosen ids; `children` follow the boxes. */
export function CheckList<K extends string>({
  options,
  value,
  onChange,
  testId,
  children,
}: {
  options: readonly { id: K; name: string }[];
  value: readonly K[];
  onChange: (value: K[]) => void;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <div className="checks">
      {options.map(({ id, name }) => (
        <CheckField
          key={id}
          plain
          label={name}
          checked={value.includes(id)}
          onChange={(on) =>
            onChange(on ? [...new Set([...value, id])] : value.filter((chosen) => chosen !== id))
          }
          testId={`${testId}-${id}`}
        />
      ))}
      {children}
    </div>
  );
}
