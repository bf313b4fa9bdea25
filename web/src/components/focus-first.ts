import { type RefObject, useEffect } from 'react';

/**
 * Brings a form that opens above a long list into view and puts the keyboard in its first field,
 * so whoever opened it from a row far down neither scrolls nor tabs back up to it.
 */
export function useFocusFirst(form: RefObject<HTMLFormElement | null>): void {
  useEffect(() => {
    const element = form.current;
    if (!element) return;
    element.scrollIntoView({ block: 'start' });
    element.querySelector<HTMLElement>('input:not([readonly]):not([type="hidden"]), select')?.focus();
  }, [form]);
}
