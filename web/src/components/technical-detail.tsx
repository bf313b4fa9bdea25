import { useTranslation } from 'react-i18next';

/**
 * What a device or a server answered (a SOAP fault, an HTTP status, a socket error), as it came:
 * for the technician, folded away so the page reads in the console's language.
 */
export function TechnicalDetail({ text }: { text: string }) {
  const { t } = useTranslation();
  return (
    <details className="technical">
      <summary>{t('common.technical')}</summary>
      <code>{text}</code>
    </details>
  );
}
