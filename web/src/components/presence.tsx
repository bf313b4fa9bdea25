import { useTranslation } from 'react-i18next';

/** A cluster's presence: a green or red dot (for the eye only) and the word. */
export function Presence({ online }: { online: boolean }) {
  const { t } = useTranslation();
  return (
    <>
      <span className={online ? 'dot ok' : 'dot bad'} aria-hidden="true" />
      {online ? t('cluster.online') : t('cluster.offline')}
    </>
  );
}
