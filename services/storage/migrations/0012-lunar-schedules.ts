/** A schedule may recur on lunar dates (JSON rule: day N of every lunar month, or day D of month M). */
export default /* sql */ `
ALTER TABLE schedules ADD COLUMN lunar TEXT;
`;
