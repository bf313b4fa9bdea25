import type { ApprovalState, ApprovalStep } from '../../contracts/schedules.js';
import type { Db } from '../storage/database.js';
import type { StateTransaction } from '../storage/sql/state-database.js';
import { isoTime } from '../time.js';
import type { ScheduleStore } from './schedule-store.js';

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
 * Read from the SQLite file; written with the schedule, through the schedule store's query layer.
 */
export class ApprovalStore {
  constructor(
    private readonly db: Db,
    private readonly schedules: ScheduleStore,
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

  /**
   * Sets the state; a step, when given, is recorded with it in one transaction. With `from`, only
   * a schedule still in one of those states changes (another approver may have been first): false
   * when it was not. The schedule counts as updated: the dispatcher and the other instances learn
   * of it as of any other change.
   */
  async set(
    scheduleId: string,
    state: ApprovalState,
    step?: { step: ApprovalStep['step']; actor: string; comment: string | null },
    from?: readonly ApprovalState[],
  ): Promise<boolean> {
    const at = this.now();
    try {
      await this.schedules.write({ table: 'schedules', id: scheduleId, change: 'updated' }, (trx) =>
        this.setIn(trx, scheduleId, state, at, step, from),
      );
      return true;
    } catch (error) {
      if (error instanceof MovedOn) return false;
      throw error;
    }
  }

  private async setIn(
    trx: StateTransaction,
    scheduleId: string,
    state: ApprovalState,
    at: number,
    step?: { step: ApprovalStep['step']; actor: string; comment: string | null },
    from?: readonly ApprovalState[],
  ): Promise<void> {
    let update = trx
      .updateTable('schedules')
      .set({
        approval_state: state,
        approved_by: state === 'approved' ? (step?.actor ?? null) : null,
        updated_at: at,
      })
      .where('id', '=', scheduleId);
    if (from) update = update.where('approval_state', 'in', [...from]);
    const result = await update.executeTakeFirst();
    if (from && result.numUpdatedRows === 0n) throw new MovedOn();
    if (!step) return;
    await trx
      .insertInto('approval_steps')
      .values({
        subject_type: 'schedule',
        subject_id: scheduleId,
        step: step.step,
        actor: step.actor,
        comment: step.comment,
        at,
      })
      .execute();
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
}

/** Ends a transition's transaction when the schedule was no longer in a state it starts from. */
class MovedOn extends Error {}
