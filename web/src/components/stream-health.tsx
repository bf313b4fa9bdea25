import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { StreamHealth } from '../api/types';
import { broadcastLogPath } from '../broadcast-log';
import { useFormat } from '../format';
import { allowed, useSession } from '../session';

/**
 * The live stream (a talk or a relay) a cluster reported playing in its last heartbeat: how it
 * fares, how much it has decoded, its gaps and reconnects, and the broadcast it belongs to (a
 * link to the log for those who may read it).
 */
export function StreamHealthView({ stream, compact = false }: { stream: StreamHealth; compact?: boolean }) {
  const { t } = useTranslation();
  const format = useFormat();
  const readsLog = allowed(useSession().me.roles, ['operator']);
  const figures = [
    t('stream.decoded', { time: format.duration(stream.decodedS) }),
    t('stream.gaps', { count: stream.gaps }),
    t('stream.reconnects', { count: stream.reconnects }),
  ].join(' · ');
  const broadcast = readsLog ? (
    <Link href={broadcastLogPath(stream.broadcastId)} data-testid="cluster-stream-broadcast">
      {stream.broadcastId}
    </Link>
  ) : (
    <code>{stream.broadcastId}</code>
  );
  return (
    <div
      className={compact ? 'stream compact' : 'stream'}
      data-testid="cluster-stream"
      data-state={stream.state}
    >
      <strong className={`stream-${stream.state}`}>
        {t('stream.label')}: {t(`streamState.${stream.state}`)}
      </strong>
      <div className={compact ? 'muted' : undefined}>{figures}</div>
      <div className={compact ? 'muted' : undefined}>
        {t('stream.broadcast')}: {broadcast}
      </div>
    </div>
  );
}
