import { rmSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Role } from '../../contracts/accounts.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { buildConsole } from './console-build.js';
import { startTestPlatform, TEST_ADMIN_PASSWORD, type TestPlatform } from './platform-harness.js';

/** A browser context signed in to the console. */
export interface Signed {
  page: Page;
  /** Uncaught page errors and, once signed in, API answers of 400 or more (unless left out). */
  errors: string[];
  close(): Promise<void>;
}

export interface SignInOptions {
  /** Runs on the new page before it opens the console (to listen or inject a script first). */
  prepare?: (page: Page, errors: string[]) => unknown;
  /** Whether an API answer of 400 or more after signing in counts as an error (default true). */
  apiErrors?: boolean;
  /** Default 1280×900. */
  viewport?: { width: number; height: number };
}

/**
 * Opens the console at `baseUrl` in a new context (vi-VN) and signs in with the login
 * form; resolves once the signed-in navigation shows.
 */
export async function signInToConsole(
  browser: Browser,
  baseUrl: string,
  username: string,
  password: string,
  options: SignInOptions = {},
): Promise<Signed> {
  const viewport = options.viewport ?? { width: 1280, height: 900 };
  const context = await browser.newContext({ viewport, locale: 'vi-VN' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await options.prepare?.(page, errors);
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  // Signed in, a refused request is a page asking for what the account may not read.
  if (options.apiErrors ?? true)
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/') && response.status() >= 400)
        errors.push(`${response.request().method()} ${response.url()}: ${response.status()}`);
    });
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav-password').waitFor();
  return { page, errors, close: () => context.close() };
}

/** The console's production build served by a real platform, and a Chromium to open it in. */
export interface ConsoleSession {
  webRoot: string;
  t: TestPlatform;
  browser: Browser;
  /** Signs in with a username and password (default `<username>-password`). */
  signIn(username: string, password?: string, options?: SignInOptions): Promise<Signed>;
  /** Signs in as the first admin, or as the unscoped account of a role (`<role>-all`), made first. */
  signInAs(role: Role, options?: SignInOptions): Promise<Signed>;
  /** Closes the browser and the platform and removes the build. */
  close(): Promise<void>;
}

/**
 * Builds the console into a temporary folder named from `prefix`, starts a platform serving it
 * (`platform` as for startTestPlatform) and launches Chromium.
 */
export async function startConsoleSession(
  prefix: string,
  platform: Omit<NonNullable<Parameters<typeof startTestPlatform>[0]>, 'webRoot'> = {},
): Promise<ConsoleSession> {
  const webRoot = await buildConsole(prefix);
  let t: TestPlatform | undefined;
  let browser: Browser;
  try {
    t = await startTestPlatform({ ...platform, webRoot });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (error) {
    await t?.close();
    rmSync(webRoot, { recursive: true, force: true });
    throw error;
  }
  const started = t;
  const signIn = (username: string, password = `${username}-password`, options: SignInOptions = {}) =>
    signInToConsole(browser, started.httpUrl, username, password, options);
  return {
    webRoot,
    t: started,
    browser,
    signIn,
    async signInAs(role, options = {}) {
      await started.headersFor(role);
      return role === 'admin'
        ? signIn('admin', TEST_ADMIN_PASSWORD, options)
        : signIn(`${role}-all`, undefined, options);
    },
    async close() {
      await browser.close();
      await started.close();
      rmSync(webRoot, { recursive: true, force: true });
    },
  };
}
