import type { ApprovalState, ApprovalStep } from '../../contracts/schedules.js';
import type { Db } from '../storage/database.js';
import { isoTime } from '../time.js';

/** Steps kept in a schedule's answer; the audit log has all of them. */
const STEPS_SHOWN = 20;

interface StepRow {
  step: ApprovalStep['step'];
  actor: string;
  comment: string | null;
  at: number;
}

/**
 * Where each schedule stands in content approval (columns of `schedules`) and the steps that took
 * it there (`approval_steps`): who submitted, approved or returned it, when, and with what comment.
 */
export class ApprovalStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  state(scheduleId: string): { state: ApprovalState; approvedBy: string | null } {
    const row = this.db
      .prepare('SELECT approval_state AS state, approved_by AS approvedBy FROM schedules WHERE id = ?')
      .get(scheduleId) as { state: ApprovalState; approvedBy: string | null } | undefined;
    return row ?? { state: 'not-required', approvedBy: null };
  }

  /** Every schedule's state at once, for the dispatcher and lists. */
  states(): Map<string, { state: ApprovalState; approvedBy: string | null }> {
    const rows = this.db
      .prepare('SELECT id, approval_state AS state, approved_by AS approvedBy FROM schedules')
      .all() as { id: string; state: ApprovalState; approvedBy: string | null }[];
    return new Map(rows.map((r) => [r.id, { state: r.state, approvedBy: r.approvedBy }]));
  }

  /** Sets the state; a step, when given, is recorded with it in one transaction. */
  set(
    scheduleId: string,
    state: ApprovalState,
    step?: { step: ApprovalStep['step']; actor: string; comment: string | null },
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE schedules SET approval_state = ?, approved_by = ? WHERE id = ?')
        .run(state, state === 'approved' ? (step?.actor ?? null) : null, scheduleId);
      if (!step) return;
      this.db
        .prepare(
          `INSERT INTO approval_steps (subject_type, subject_id, step, actor, comment, at)
           VALUES ('schedule', ?, ?, ?, ?, ?)`,
        )
        .run(scheduleId, step.step, step.actor, step.comment, this.now());
    })();
  }

  steps(scheduleId: string): ApprovalStep[] {
    const rows = this.db
      .prepare(
        `SELECT step, actor, comment, at FROM approval_steps WHERE subject_type = 'schedule' AND subject_id = ?
         ORDER BY id DESC LIMIT ?`,
      )
      .all(scheduleId, STEPS_SHOWN) as StepRow[];
    return rows.reverse().map((r) => ({ step: r.step, by: r.actor, comment: r.comment, at: isoTime(r.at) }));
  }

  /** A schedule's steps go with it. */
  forget(scheduleId: string): void {
    this.db
      .prepare("DELETE FROM approval_steps WHERE subject_type = 'schedule' AND subject_id = ?")
      .run(scheduleId);
  }
}
