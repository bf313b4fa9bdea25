import { useTranslation } from 'react-i18next';
import guide from '../../../docs/https.md?raw';

/**
 * The platform's HTTPS guide (docs/https.md), for whoever finds the microphone refused on a plain
 * HTTP address. Shown as written, in English like the rest of the platform's documentation.
 */
export default function HttpsHelpPage() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('microphone.helpTitle')}</h1>
      <p className="muted">{t('microphone.helpIntro')}</p>
      <pre className="card guide" lang="en" data-testid="https-guide">
        {guide}
      </pre>
    </section>
  );
}
