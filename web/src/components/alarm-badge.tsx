import { useTranslation } from 'react-i18next';
import type { AlarmView } from '../../../contracts/alarms';
import type { Page } from '../api/client';
import { useAlarmChanges } from '../api/live';
import { useFetch } from '../api/use-fetch';
import { useAlarmBell } from './alarm-sound';

/** Alarms that need someone: open (no one has taken them yet), not held, warning or worse. */
export function needsSomeone(alarm: AlarmView): boolean {
  return alarm.state === 'open' && !alarm.held && alarm.severity !== 'info';
}

/**
 * The navigation's count of open critical and warning alarms. Drawn on every page, it also rings
 * the bell for a new critical alarm wherever the console is open.
 */
export function AlarmBadge() {
  const { t } = useTranslation();
  // Ordered by severity, so the warnings and worse come first.
  const open = useFetch<Page<AlarmView>>('/api/v1/alarms', { state: 'open', limit: 500 });
  useAlarmBell();
  useAlarmChanges((event) => {
    if (event === null || 'alarm' in event) open.reload();
  });
  const count = open.data?.items.filter(needsSomeone).length ?? 0;
  if (count === 0) return null;
  return (
    <span className="badge bad" data-testid="nav-alarms-count" data-count={count}>
      {count}
      <span className="visually-hidden"> {t('alarms.openBadge', { count })}</span>
    </span>
  );
}
