/** The broadcast log, opened at one broadcast (pages/reports.tsx reads `broadcast`). */
export function broadcastLogPath(broadcastId: string): string {
  return `/reports?broadcast=${encodeURIComponent(broadcastId)}`;
}
