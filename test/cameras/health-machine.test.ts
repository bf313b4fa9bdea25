import { describe, expect, it } from 'vitest';
import {
  type CameraHealth,
  type CameraHealthConfig,
  type CameraHealthState,
  type CameraHealthStep,
  type CameraIncident,
  type CameraPollSignals,
  cameraHealthConfig,
  classifyPoll,
  defaultCameraHealthConfig,
  stepCameraHealth,
} from '../../devices/onvif-camera/health-machine.js';

const POLL_MS = 30_000;
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);

const good: CameraPollSignals = {
  reachable: true,
  onvifOk: true,
  onvifLatencyMs: 120,
  authOk: true,
  clockDriftS: 0.4,
  streamUriPresent: true,
  rtspOk: true,
  snapshotOk: true,
  snapshotBytes: 48_000,
  snapshotLatencyMs: 300,
};
const down: CameraPollSignals = {
  ...good,
  reachable: false,
  onvifOk: false,
  onvifLatencyMs: null,
  authOk: null,
  clockDriftS: null,
  streamUriPresent: false,
  rtspOk: false,
  snapshotOk: false,
  snapshotBytes: null,
  snapshotLatencyMs: null,
  error: 'ECONNREFUSED',
};
const badPassword: CameraPollSignals = {
  ...down,
  reachable: true,
  onvifOk: true,
  onvifLatencyMs: 100,
  authOk: false,
  clockDriftS: 0,
  error: 'ter:NotAuthorized',
};
const drift30: CameraPollSignals = { ...good, clockDriftS: 30 };
const slow: CameraPollSignals = { ...good, onvifLatencyMs: 2500 };

type Letter = 'G' | 'X' | 'A' | 'D' | 'S';
const byLetter: Record<Letter, CameraPollSignals> = { G: good, X: down, A: badPassword, D: drift30, S: slow };

interface Run {
  steps: CameraHealthStep[];
  final: CameraHealth;
  transitions: { to: CameraHealthState; at: number; since: number }[];
  incidents: CameraIncident[];
}

/** Feeds one poll per letter, POLL_MS apart, starting at T0. */
function run(
  polls: string,
  config: CameraHealthConfig = defaultCameraHealthConfig,
  start?: CameraHealth,
): Run {
  let health = start;
  const steps: CameraHealthStep[] = [];
  const transitions: Run['transitions'] = [];
  const incidents: CameraIncident[] = [];
  [...polls].forEach((letter, i) => {
    const at = T0 + i * POLL_MS;
    const step = stepCameraHealth(health, byLetter[letter as Letter], at, config);
    steps.push(step);
    health = step.health;
    if (step.transition) transitions.push({ to: step.transition.to, at, since: step.health.since });
    if (step.closed) incidents.push(step.closed);
  });
  if (!health) throw new Error('no polls');
  if (health.openIncident) incidents.push(health.openIncident);
  return { steps, final: health, transitions, incidents };
}

const at = (i: number) => T0 + i * POLL_MS;

describe('classifying one poll', () => {
  const cases: [string, CameraPollSignals, string, string][] = [
    ['all checks pass', good, 'ok', 'healthy'],
    ['no TCP answer', down, 'unreachable', 'unreachable'],
    ['HTTP answers but no ONVIF', { ...good, onvifOk: false, authOk: null }, 'unreachable', 'unreachable'],
    ['credentials refused', badPassword, 'auth-rejected', 'auth-rejected'],
    ['30 s clock drift', drift30, 'degraded', 'clock-drift'],
    ['drift behind the platform counts too', { ...good, clockDriftS: -6 }, 'degraded', 'clock-drift'],
    ['drift just under the threshold is fine', { ...good, clockDriftS: 4.9 }, 'ok', 'healthy'],
    ['no stream URI', { ...good, streamUriPresent: false, rtspOk: false }, 'degraded', 'stream-down'],
    ['RTSP not answering', { ...good, rtspOk: false }, 'degraded', 'stream-down'],
    ['snapshot broken', { ...good, snapshotOk: false, snapshotBytes: 12 }, 'degraded', 'snapshot-failed'],
    ['slow ONVIF', slow, 'degraded', 'slow'],
    ['slow snapshot', { ...good, snapshotLatencyMs: 6000 }, 'degraded', 'slow'],
    ['stream down outranks drift', { ...drift30, rtspOk: false }, 'degraded', 'stream-down'],
  ];
  it.each(cases)('%s', (_name, signals, kind, code) => {
    const verdict = classifyPoll(signals, defaultCameraHealthConfig);
    expect(verdict.kind).toBe(kind);
    expect(verdict.reason.code).toBe(code);
  });

  it('names every degradation in the detail', () => {
    const verdict = classifyPoll(
      { ...drift30, rtspOk: false, onvifLatencyMs: 2500 },
      defaultCameraHealthConfig,
    );
    expect(verdict.reason.detail).toMatch(/RTSP.*30 s.*2500 ms/);
  });
});

describe('camera health over a series of polls', () => {
  // polls, final state, number of transitions
  const cases: [string, string, CameraHealthState, number][] = [
    ['the first good poll is ok at once', 'G', 'ok', 1],
    ['a single dropped poll changes nothing', 'GGXGG', 'ok', 1],
    ['two dropped polls in a row change nothing', 'GXXG', 'ok', 1],
    ['three dropped polls in a row take it offline', 'GXXX', 'offline', 2],
    ['an unknown camera that never answers goes offline after three polls', 'XXX', 'offline', 1],
    ['one good poll does not confirm recovery', 'GXXXG', 'offline', 2],
    ['two good polls confirm recovery', 'GXXXGG', 'ok', 3],
    ['a drop during recovery restarts the count', 'GXXXGXG', 'offline', 2],
    ['a wrong password is auth_failed, not offline', 'GAA', 'auth_failed', 2],
    ['one rejected login is not enough', 'GAG', 'ok', 1],
    ['many rejected logins never become offline', 'AAAAAAA', 'auth_failed', 1],
    ['fixing the password recovers after two good polls', 'GAAGG', 'ok', 3],
    ['30 s drift is degraded', 'DD', 'degraded', 1],
    ['drift on an ok camera needs two polls', 'GDD', 'degraded', 2],
    ['one slow poll is not a degradation', 'GSG', 'ok', 1],
    ['unreachable-good flapping never pages', 'GXGXGXGXGXGX', 'ok', 1],
    ['ok-degraded flapping stays put', 'GSGSGSGS', 'ok', 1],
    ['a camera that drops back offline while recovering stays offline', 'XXXGXXG', 'offline', 1],
    [
      'an offline camera that answers but refuses the password moves to auth_failed',
      'XXXAA',
      'auth_failed',
      2,
    ],
    ['an auth_failed camera that stops answering goes offline', 'AAXXX', 'offline', 2],
    ['recovery into a degraded camera lands in degraded', 'XXXDD', 'degraded', 2],
  ];
  it.each(cases)('%s (%s)', (_name, polls, state, transitions) => {
    const result = run(polls);
    expect(result.final.state).toBe(state);
    expect(result.transitions).toHaveLength(transitions);
  });

  it('dates offline from the first failed poll, not the poll that confirmed it', () => {
    const result = run('GGXXX');
    expect(result.final.state).toBe('offline');
    expect(result.final.since).toBe(at(2));
    expect(result.final.reason.code).toBe('unreachable');
    const entering = result.steps[4];
    expect(entering?.changed).toBe(true);
    expect(entering?.transition).toMatchObject({ from: 'ok', to: 'offline', at: at(4) });
    expect(entering?.opened).toMatchObject({ kind: 'offline', start: at(2), end: null });
  });

  it('opens one incident per outage and closes it at the first good poll of the confirmed recovery', () => {
    const result = run('GXXXXGGGXXXGG');
    expect(result.incidents).toEqual([
      { kind: 'offline', start: at(1), end: at(5), reason: expect.objectContaining({ code: 'unreachable' }) },
      {
        kind: 'offline',
        start: at(8),
        end: at(11),
        reason: expect.objectContaining({ code: 'unreachable' }),
      },
    ]);
    expect(result.final.openIncident).toBeNull();
    expect(result.final.since).toBe(at(11));
  });

  it('keeps one open incident while the camera stays offline', () => {
    const result = run('XXXXXXXX');
    expect(result.steps.filter((s) => s.opened)).toHaveLength(1);
    expect(result.final.openIncident).toMatchObject({ kind: 'offline', start: at(0), end: null });
  });

  it('records the credential incident from the first rejected login', () => {
    const result = run('GAAAGG');
    expect(result.incidents).toEqual([
      {
        kind: 'auth_failed',
        start: at(1),
        end: at(4),
        reason: expect.objectContaining({ code: 'auth-rejected' }),
      },
    ]);
  });

  it('closes the offline incident when the camera answers again but refuses the password', () => {
    const result = run('XXXAA');
    expect(result.incidents.map((i) => [i.kind, i.start, i.end])).toEqual([
      ['offline', at(0), at(3)],
      ['auth_failed', at(3), null],
    ]);
  });

  it('reports clock drift as degraded clock-drift with the amount', () => {
    const result = run('GDD');
    expect(result.final.state).toBe('degraded');
    expect(result.final.reason.code).toBe('clock-drift');
    expect(result.final.reason.detail).toContain('30 s');
    expect(result.final.since).toBe(at(1));
  });

  it('updates the reason of a degraded camera without a new transition', () => {
    const result = run('DDSS');
    expect(result.transitions).toHaveLength(1);
    expect(result.final.reason.code).toBe('slow');
    expect(result.final.since).toBe(at(0));
  });

  it('keeps the last good reason during a dropped poll so "since" and "why" stay consistent', () => {
    const result = run('GGX');
    expect(result.final.state).toBe('ok');
    expect(result.final.reason.code).toBe('healthy');
    expect(result.final.since).toBe(at(0));
  });

  it('honours configured thresholds', () => {
    const config = cameraHealthConfig({ failuresBeforeOffline: 5, successesBeforeRecovery: 3 });
    expect(run('GXXXX', config).final.state).toBe('ok');
    expect(run('GXXXXX', config).final.state).toBe('offline');
    expect(run('GXXXXXGG', config).final.state).toBe('offline');
    expect(run('GXXXXXGGG', config).final.state).toBe('ok');
  });

  it('clamps counts below one so debouncing cannot be switched off by a bad config', () => {
    const config = cameraHealthConfig({ failuresBeforeOffline: 0, successesBeforeRecovery: -2 });
    expect(config.failuresBeforeOffline).toBe(1);
    expect(config.successesBeforeRecovery).toBe(1);
  });

  it('never transitions more often than the debounce allows, whatever the sequence', () => {
    // Every 7-poll sequence over the five poll kinds: between two transitions at least
    // min(debounce) = 2 polls pass, except the very first answer of an unknown camera.
    const letters: Letter[] = ['G', 'X', 'A', 'D', 'S'];
    const sequences: string[] = [''];
    for (let n = 0; n < 6; n++) {
      const next: string[] = [];
      for (const s of sequences) for (const l of letters) next.push(s + l);
      sequences.splice(0, sequences.length, ...next);
    }
    for (const seq of sequences) {
      const indexes = run(`G${seq}`)
        .steps.map((s, i) => (s.changed ? i : -1))
        .filter((i) => i > 0);
      for (let k = 1; k < indexes.length; k++) {
        expect((indexes[k] ?? 0) - (indexes[k - 1] ?? 0), seq).toBeGreaterThanOrEqual(2);
      }
    }
  });
});
