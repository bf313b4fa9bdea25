import { Suspense, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Switch, useLocation } from 'wouter';
import { api, onUnauthorized } from './api/client';
import { live, useLive } from './api/live';
import type { ConsoleSettings, Me } from './api/types';
import { LanguageSwitch } from './components/language-switch';
import { DEFAULT_SETTINGS, SettingsContext } from './format';
import { LoginPage } from './pages/login';
import { ROUTES } from './routes';
import { allowed, SessionContext } from './session';

type Auth = { state: 'checking' } | { state: 'signed-out' } | { state: 'signed-in'; me: Me };

export function App() {
  const { t } = useTranslation();
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  const [settings, setSettings] = useState<ConsoleSettings>(DEFAULT_SETTINGS);

  useEffect(() => {
    document.title = t('app.title');
  }, [t]);

  // The settings need a session, so they are read after each sign-in.
  useEffect(() => {
    if (auth.state !== 'signed-in') return;
    api<ConsoleSettings>('/api/v1/console/settings')
      .then((answer) => setSettings({ ...DEFAULT_SETTINGS, ...answer }))
      .catch((error: unknown) => {
        // The console works with its defaults when the platform predates this endpoint.
        console.warn('console settings unavailable', error);
      });
  }, [auth.state]);

  const loadMe = useCallback(() => {
    api<Me>('/api/v1/auth/me')
      .then((me) => setAuth({ state: 'signed-in', me }))
      .catch(() => setAuth({ state: 'signed-out' }));
  }, []);

  useEffect(() => {
    loadMe();
    onUnauthorized(() => setAuth({ state: 'signed-out' }));
    return () => onUnauthorized(null);
  }, [loadMe]);

  useEffect(() => {
    if (auth.state !== 'signed-in') return;
    live.start();
    return () => live.stop();
  }, [auth.state]);

  const signOut = useCallback(() => {
    api('/api/v1/auth/logout', { method: 'POST' })
      .catch((error: unknown) => console.warn('logout failed', error))
      .finally(() => setAuth({ state: 'signed-out' }));
  }, []);

  return (
    <SettingsContext.Provider value={settings}>
      {auth.state === 'checking' ? (
        <p className="loading">{t('common.loading')}</p>
      ) : auth.state === 'signed-out' ? (
        <LoginPage onSignedIn={loadMe} />
      ) : (
        <SessionContext.Provider value={{ me: auth.me, signOut }}>
          <Shell me={auth.me} signOut={signOut} demo={settings.demo} />
        </SessionContext.Provider>
      )}
    </SettingsContext.Provider>
  );
}

function Shell({ me, signOut, demo }: { me: Me; signOut: () => void; demo: boolean }) {
  const { t } = useTranslation();
  const [location] = useLocation();
  const { connected } = useLive();
  const [menuOpen, setMenuOpen] = useState(false);
  const visible = ROUTES.filter(
    (route) => route.nav && allowed(me.roles, route.roles) && (route.offered?.(me) ?? true),
  );
  const home = visible[0]?.path ?? '/';

  return (
    <div className="shell">
      <header className="topbar">
        <a className="skip" href="#main">
          {t('app.skip')}
        </a>
        <span className="brand">{t('app.title')}</span>
        {demo ? <span className="badge demo">{t('app.demo')}</span> : null}
        <span className={connected ? 'badge ok' : 'badge bad'} data-testid="live-status">
          {connected ? t('app.live') : t('app.offline')}
        </span>
        <button
          type="button"
          className="menu-toggle"
          data-testid="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          {t('app.menu')}
        </button>
        <LanguageSwitch />
        <span className="who">{me.user.displayName || me.user.username}</span>
        <button type="button" onClick={signOut} data-testid="logout-button">
          {t('app.signOut')}
        </button>
      </header>
      <nav id="main-nav" className={menuOpen ? 'nav open' : 'nav'} aria-label={t('nav.label')}>
        <ul>
          {visible.map((route) => (
            <li key={route.path}>
              <Link
                href={route.path}
                data-testid={route.testId}
                aria-current={location === route.path ? 'page' : undefined}
                onClick={() => setMenuOpen(false)}
              >
                {t(route.nav ?? '')}
                {route.badge ? <route.badge /> : null}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">{t('common.loading')}</p>}>
          <Switch>
            {ROUTES.map((route) => {
              const Page = route.component;
              const ok = allowed(me.roles, route.roles);
              // Someone whose first page is not "/" (police) lands on theirs instead of a refusal.
              if (route.path === '/' && !ok)
                return (
                  <Route key={route.path} path="/">
                    <RedirectTo path={home} />
                  </Route>
                );
              return (
                <Route key={route.path} path={route.path}>
                  {ok ? <Page /> : <NotAllowed />}
                </Route>
              );
            })}
            <Route>
              <NotFound />
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}

function RedirectTo({ path }: { path: string }) {
  const [, navigate] = useLocation();
  useEffect(() => {
    if (path !== '/') navigate(path, { replace: true });
  }, [path, navigate]);
  return path === '/' ? <NotAllowed /> : null;
}

function NotAllowed() {
  const { t } = useTranslation();
  return (
    <section data-testid="not-allowed">
      <h1>{t('errors.notAllowedTitle')}</h1>
      <p>{t('errors.notAllowed')}</p>
    </section>
  );
}

function NotFound() {
  const { t } = useTranslation();
  return (
    <section data-testid="not-found">
      <h1>{t('errors.notFoundTitle')}</h1>
      <Link href="/">{t('errors.backHome')}</Link>
    </section>
  );
}
