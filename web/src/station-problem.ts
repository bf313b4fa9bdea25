/**
 * What the platform found wrong with a station (services/stations/station-watch.ts words it in
 * English for logs and API clients), as an i18n key of `stationProblem.*` and its values, so the
 * console says it in its own language. Node's socket errors (`connect ECONNREFUSED 10.0.0.5:80`)
 * are known by their code. A detail none of these fit is null: shown as it came, folded away.
 */
export interface ProblemWords {
  key: string;
  values?: Record<string, string | number>;
}

const PATTERNS: [RegExp, (match: RegExpExecArray) => ProblemWords][] = [
  [/^HTTP (\d{3})$/, (m) => ({ key: 'httpStatus', values: { status: Number(m[1]) } })],
  [/^Content-Type .* is not audio$/, () => ({ key: 'notAudio' })],
  [
    /^dead air: (\d+(?:\.\d+)?) s of silence$/,
    (m) => ({ key: 'deadAir', values: { seconds: Number(m[1]) } }),
  ],
  [
    /^no audio received for (\d+(?:\.\d+)?) s$/,
    (m) => ({ key: 'noAudio', values: { seconds: Number(m[1]) } }),
  ],
  [
    /^no answer within (\d+) ms$/,
    (m) => ({ key: 'noAnswer', values: { seconds: Math.round(Number(m[1]) / 100) / 10 } }),
  ],
  [/^more than (\d+) redirects$/, (m) => ({ key: 'redirects', values: { count: Number(m[1]) } })],
  [/^refused: |resolves to an address that may not be fetched$/, () => ({ key: 'refused' })],
  [/^the station ended the stream$/, () => ({ key: 'ended' })],
  [/^the stream broke: /, () => ({ key: 'broke' })],
  [/^station ".+" no longer exists$/, () => ({ key: 'removed' })],
  [/\bECONNREFUSED\b/, () => ({ key: 'connectionRefused' })],
  [/\b(ENOTFOUND|EAI_AGAIN)\b/, () => ({ key: 'unknownHost' })],
  [/\b(ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/, () => ({ key: 'noRoute' })],
  [/\bECONNRESET\b|^socket hang up$/, () => ({ key: 'connectionReset' })],
  [/certificate|\bCERT_|\bSSL|\bTLS\b/i, () => ({ key: 'certificate' })],
];

export function stationProblem(detail: string): ProblemWords | null {
  for (const [pattern, words] of PATTERNS) {
    const match = pattern.exec(detail);
    if (match) return words(match);
  }
  return null;
}

/**
 * A relay's switch reason, `<station name>: <detail>` (services/broadcasts/relay-watch.ts), split
 * where the rest is a detail with words; a station's name may hold ": " itself. A reason that
 * names no station (it was removed) has no name.
 */
export function relayReason(reason: string): { station: string | null; problem: ProblemWords | null } {
  if (/^station ".+" no longer exists$/.test(reason)) return { station: null, problem: { key: 'removed' } };
  let at = reason.indexOf(': ');
  while (at > 0) {
    const problem = stationProblem(reason.slice(at + 2));
    if (problem) return { station: reason.slice(0, at), problem };
    at = reason.indexOf(': ', at + 2);
  }
  return { station: null, problem: null };
}
