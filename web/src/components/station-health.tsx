import { useTranslation } from 'react-i18next';
import type { Station } from '../api/types';
import { useFormat } from '../format';
import { useLabels } from '../labels';
import { TechnicalDetail } from './technical-detail';

/**
 * A station's last check, before or during a relay: its state, what was wrong in words, when,
 * and what the station answered (a type, an HTTP status, a socket error) folded away.
 */
export function StationHealth({ station }: { station: Station }) {
  const { t } = useTranslation();
  const format = useFormat();
  const labels = useLabels();
  const { state, detail, checkedAt } = station.health;
  const problem = state !== 'ok' && detail ? labels.stationProblem(detail) : null;
  return (
    <>
      <span
        className={`state-badge station-${state}`}
        data-testid="station-health"
        data-state={state}
        data-station-id={station.id}
      >
        {t(`stationHealth.${state}`)}
      </span>
      {problem ? <div>{problem}</div> : null}
      {checkedAt ? (
        <div className="muted">{t('stations.checkedAt', { time: format.dateTime(checkedAt) })}</div>
      ) : null}
      {detail ? <TechnicalDetail text={detail} /> : null}
    </>
  );
}
