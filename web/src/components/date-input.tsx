import type { InputHTMLAttributes } from 'react';
import { useFormat } from '../format';

type Props = Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'value' | 'onChange'> & {
  type?: 'date' | 'datetime-local';
  value: string;
  onChange: (value: string) => void;
};

/**
 * A date (or date and time) input that also writes the chosen value out as the console's
 * language does, 24-hour and day first: the browser draws the input itself, in the format of
 * its own language, which need not be the console's.
 */
export function DateInput({ type = 'date', value, onChange, ...rest }: Props) {
  const format = useFormat();
  const [day = '', time = ''] = value.split('T');
  const echo = value ? `${format.calendarDate(day)}${time ? ` ${time.slice(0, 5)}` : ''}` : '';
  return (
    <>
      <input type={type} value={value} onChange={(e) => onChange(e.target.value)} {...rest} />
      {echo ? <span className="muted input-echo">{echo}</span> : null}
    </>
  );
}
