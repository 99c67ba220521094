const TERMINAL = new Set(["succeeded", "warning", "failed", "cancelled"]);
const COLORS: Record<string, string> = {
  queued: "gray",
  running: "blue",
  cancelling: "orange",
  succeeded: "green",
  warning: "yellow",
  failed: "red",
  cancelled: "dark",
  ok: "green",
  degraded: "yellow",
  down: "red",
  error: "red",
};

export const isTerminal = (status: string) => TERMINAL.has(status);
export const statusColor = (status: string) => COLORS[status] ?? "gray";
