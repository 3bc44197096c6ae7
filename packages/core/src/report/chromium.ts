/**
 * Opening a report in headless Chromium, for the browser tests and for measurements: Debian's
 * `chromium` (or $DLCV_CHROMIUM) driven by playwright-core, which downloads nothing. The page
 * loads from file://, and every console error and uncaught exception is collected.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium executable: $DLCV_CHROMIUM, else the first of Debian's and Google's usual paths that exists; undefined when none. */
export function chromiumPath(): string | undefined {
  const env = process.env.DLCV_CHROMIUM;
  return [...(env ? [env] : []), ...CANDIDATES].find((p) => existsSync(p));
}

/** DLCV_REQUIRE_BROWSER=1 (CI): browser tests fail instead of skipping when Chromium is missing. */
export function browserRequired(): boolean {
  return process.env.DLCV_REQUIRE_BROWSER === '1';
}

export interface OpenedReport {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions so far. */
  errors: string[];
  /** Milliseconds from navigation until the page's sections were built (window.dlcvPage.ready). */
  loadMs: number;
  close(): Promise<void>;
}

/** Opens `indexHtml` in headless Chromium and waits until the page has built its sections and drawn its charts. */
export async function openReport(indexHtml: string, options: { width?: number; height?: number; timeoutMs?: number } = {}): Promise<OpenedReport> {
  const executablePath = chromiumPath();
  if (!executablePath) {
    const env = process.env.DLCV_CHROMIUM ? ` (DLCV_CHROMIUM=${process.env.DLCV_CHROMIUM} does not exist)` : '';
    throw new Error(`no Chromium found${env}: apt-get install chromium (or DLCV_BROWSER=1 ./setup.sh), or set DLCV_CHROMIUM`);
  }
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // Chromium's sandbox refuses to run as root (containers, CI).
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const browser = await chromium.launch({ executablePath, args, headless: true });
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    const t0 = Date.now();
    await page.goto(pathToFileURL(indexHtml).href);
    await page.waitForFunction(() => window.dlcvPage?.ready === true, null, { timeout: options.timeoutMs ?? 60_000 });
    return { browser, page, errors, loadMs: Date.now() - t0, close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
