import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Finds what should not be on a Vietnamese page: English words and raw codes from the server.
 *
 * English words are the console's own English texts' words that its Vietnamese texts never use
 * (so "MQTT", "CSV" or "dBm", in both, pass), and the English the server itself writes (error
 * messages, health details, uPlot's defaults). A raw code is a lower-case word joined by `-`, `_`
 * or `.` (`open-circuit`, `auth_failed`, `cluster.create`) that is not a record's id.
 */
export class ForeignWords {
  private readonly english: Set<string>;

  constructor(
    root: string,
    private readonly allowed: ReadonlySet<string>,
  ) {
    const words = (file: string) => {
      const found = new Set<string>();
      const walk = (value: unknown): void => {
        if (typeof value === 'string') {
          // Interpolations ({{count}}) are not words of the text.
          for (const word of tokens(value.replace(/\{\{[^}]+\}\}/g, ' '))) found.add(word.toLowerCase());
        } else if (value && typeof value === 'object') Object.values(value).forEach(walk);
      };
      walk(JSON.parse(readFileSync(join(root, 'web', 'src', 'i18n', file), 'utf8')));
      return found;
    };
    const vietnamese = words('vi.json');
    this.english = new Set(
      [...words('en.json'), ...SERVER_ENGLISH].filter(
        (word) => /^[a-z]{2,}$/.test(word) && !vietnamese.has(word),
      ),
    );
  }

  /** The English words and raw codes in a page's visible text, each with the line it is on. */
  find(text: string): string[] {
    const found = new Map<string, string>();
    for (const line of text.split('\n')) {
      for (const token of tokens(line)) {
        if (this.allowed.has(token) || found.has(token)) continue;
        const lower = token.toLowerCase();
        if (this.english.has(lower) || RAW_CODE.test(token)) found.set(token, line.trim().slice(0, 120));
      }
    }
    return [...found].map(([token, line]) => `${token} (in "${line}")`);
  }
}

const RAW_CODE = /^[a-z]+(?:[-_.][a-z]+)+$/;

/** Words the server (or a library) writes in English that the console's texts do not contain. */
const SERVER_ENGLISH = [
  'wrong',
  'username',
  'password',
  'unauthenticated',
  'sign',
  'first',
  'checks',
  'passed',
  'healthy',
  'unreachable',
  'refused',
  'timeout',
  'connection',
  'failed',
  'value',
  'time',
  'am',
  'pm',
  'attempts',
  'reported',
  'late',
  'arrived',
  'completion',
  'report',
  'answer',
  'expiry',
  'restarted',
];

function tokens(text: string): string[] {
  return text
    .split(/[^\p{L}\p{N}_.-]+/u)
    .map((t) => t.replace(/^[.-]+|[.-]+$/g, ''))
    .filter(Boolean);
}
