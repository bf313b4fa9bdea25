import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { MicrophoneSupport } from '../audio/microphone';

/** Where the console shows docs/https.md (pages/https-help.tsx). */
export const HTTPS_HELP_PATH = '/help/https';

/**
 * Why there is no microphone button: the browser refuses the microphone to a page reached over
 * plain HTTP (other than localhost), or has no microphone API at all.
 */
export function MicrophoneNotice({
  support,
  compact = false,
}: {
  support: Exclude<MicrophoneSupport, 'ok'>;
  compact?: boolean;
}) {
  const { t } = useTranslation();
  const text = support === 'insecure' ? t('microphone.insecure') : t('microphone.unsupported');
  if (compact)
    return (
      <p className="muted" data-testid="microphone-notice" data-support={support}>
        {text} {support === 'insecure' ? <Link href={HTTPS_HELP_PATH}>{t('microphone.howTo')}</Link> : null}
      </p>
    );
  return (
    <div className="notice" role="note" data-testid="microphone-notice" data-support={support}>
      <h2>{support === 'insecure' ? t('microphone.insecureTitle') : t('microphone.unsupportedTitle')}</h2>
      <p>{text}</p>
      {support === 'insecure' ? (
        <>
          <p>{t('microphone.fix')}</p>
          <Link href={HTTPS_HELP_PATH}>{t('microphone.howTo')}</Link>
        </>
      ) : null}
    </div>
  );
}
