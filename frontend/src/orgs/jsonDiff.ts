export interface DiffEntry {
  key: string;
  kind: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

/** The top-level keys that differ between two snapshots (null = nothing), sorted by key. */
export function jsonDiff(
  before: Record<string, unknown> | null | undefined,
  after: Record<string, unknown> | null | undefined,
): DiffEntry[] {
  const b = before ?? {};
  const a = after ?? {};
  const keys = Array.from(new Set([...Object.keys(b), ...Object.keys(a)])).sort();
  const out: DiffEntry[] = [];
  for (const key of keys) {
    const inB = key in b;
    const inA = key in a;
    if (inB && !inA) out.push({ key, kind: "removed", before: b[key] });
    else if (!inB && inA) out.push({ key, kind: "added", after: a[key] });
    else if (JSON.stringify(b[key]) !== JSON.stringify(a[key]))
      out.push({ key, kind: "changed", before: b[key], after: a[key] });
  }
  return out;
}

export function compact(value: unknown): string {
  if (value === undefined) return "";
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
