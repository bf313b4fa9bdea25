import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from './api/client';
import { useFormat } from './format';
import { type ProblemWords, relayReason, stationProblem } from './station-problem';

/**
 * Words for the codes the server sends (presence reasons, speaker faults, delivery outcomes, audit
 * actions, error codes), in the console's language. A code without a label is shown as it came,
 * so nothing is hidden, but every code the platform itself sends has one in both languages.
 */
export interface Labels {
  presenceReason(code: string | null | undefined): string;
  fault(code: string): string;
  deliveryReason(reason: string): string;
  auditAction(action: string): string;
  actorType(type: string): string;
  /** Who did it: the account's name, or for the platform itself what part of it. */
  actor(type: string, name: string | null): string;
  targetType(type: string): string;
  rejection(reason: string): string;
  /** What was wrong with a station, or null when the detail has no words (show it as it came). */
  stationProblem(detail: string): string | null;
  /**
   * Why a relay switched to its fallback ("VOV1: dead air for 20 s") in the console's language;
   * a reason without words says only that the station failed (show the reason itself folded away).
   */
  relayReason(reason: string): string;
  /** The error as a sentence, with the fields to correct when the server named them. */
  error(error: ApiError): string;
}

export function useLabels(): Labels {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  return useMemo(() => {
    const known = (key: string) => i18n.exists(key);
    const label = (key: string, fallback: string) => (known(key) ? t(key) : fallback);
    const problem = (words: ProblemWords) => t(`stationProblem.${words.key}`, words.values);
    /** A switch reason in words; one without words says only that the station failed. */
    const relay = (reason: string) => {
      const { station, problem: words } = relayReason(reason);
      if (!words) return t('stationProblem.other');
      return station === null ? problem(words) : t('stationProblem.of', { station, problem: problem(words) });
    };
    /** One `;`-separated part of a delivery reason, as the dispatcher words it. */
    const reasonPart = (part: string): string => {
      const key = `deliveryReason.${part}`;
      if (known(key)) return t(key);
      const attempts = /^fetch-failed on (\d+) attempts?$/.exec(part);
      if (attempts) return t('deliveryReason.fetchFailedAttempts', { count: Number(attempts[1]) });
      const attempt = /^attempt (\d+)$/.exec(part);
      if (attempt) return t('deliveryReason.attempt', { count: Number(attempt[1]) });
      const late = /^reported late \(arrived (.+)\)$/.exec(part);
      if (late) return t('deliveryReason.reportedLate', { time: format.dateTime(late[1]) });
      const switched = /^switched to the fallback: (.+)$/.exec(part);
      if (switched) return t('deliveryReason.switched', { reason: relay(switched[1] ?? '') });
      return part;
    };
    return {
      presenceReason: (code) => (code ? label(`reason.${code}`, code) : t('common.none')),
      fault: (code) => label(`fault.${code}`, t('fault.other', { code })),
      deliveryReason: (reason) =>
        reason
          .split('; ')
          .map((part) => reasonPart(part.trim()))
          .join('; '),
      auditAction: (action) => label(`auditAction.${action}`, action),
      actorType: (type) => label(`actorType.${type}`, type),
      actor: (type, name) =>
        type === 'system' && name
          ? label(`systemActor.${name}`, name)
          : (name ?? label(`actorType.${type}`, type)),
      targetType: (type) => label(`targetType.${type}`, type),
      rejection: (reason) => label(`rejection.${reason}`, reason),
      stationProblem: (detail) => {
        const words = stationProblem(detail);
        return words ? problem(words) : null;
      },
      relayReason: relay,
      error: (error) => {
        const details = error.details as { retryAfterS?: number } | { field?: string }[] | undefined;
        const seconds = !Array.isArray(details) ? details?.retryAfterS : undefined;
        const sentence =
          error.status === 0
            ? t('errorCode.network')
            : known(`errorCode.${error.code}`)
              ? t(`errorCode.${error.code}`, { seconds: seconds ?? '' })
              : error.message;
        const fields = Array.isArray(details)
          ? details.map((d) => d.field).filter((f): f is string => typeof f === 'string')
          : [];
        return fields.length > 0
          ? `${sentence} ${t('errorCode.fields', { fields: fields.map(fieldName).join(', ') })}`
          : sentence;
      },
    };
  }, [t, i18n, format]);
}

/** `body.villageId` → `villageId`: where the value sits in the form is clear to the user. */
function fieldName(field: string): string {
  return field.replace(/^(body|query|params)\./, '');
}
