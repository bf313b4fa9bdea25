import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import vi from './vi.json';

export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'smart-commune.lang';

function storedLanguage(): Language {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'en' ? 'en' : 'vi';
  } catch {
    // Private browsing can refuse storage; Vietnamese is the console's language anyway.
    return 'vi';
  }
}

/**
 * Vietnamese ships with the console; English is fetched the first time it is chosen, so a commune
 * PC on a slow link does not download words it will not show.
 */
async function loadLanguage(language: Language): Promise<void> {
  if (i18next.hasResourceBundle(language, 'translation')) return;
  if (language === 'en') i18next.addResourceBundle('en', 'translation', (await import('./en.json')).default);
}

export async function setupI18n(): Promise<void> {
  const language = storedLanguage();
  await i18next.use(initReactI18next).init({
    resources: { vi: { translation: vi } },
    lng: 'vi',
    fallbackLng: 'vi',
    interpolation: { escapeValue: false },
  });
  if (language !== 'vi') {
    await loadLanguage(language);
    await i18next.changeLanguage(language);
  }
  document.documentElement.lang = i18next.language;
}

export async function switchLanguage(language: Language): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Not persisted then; the switch still applies to this tab.
  }
  await loadLanguage(language);
  await i18next.changeLanguage(language);
  document.documentElement.lang = language;
}
