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
