// Fails when src/api/schema.d.ts is not what openapi-typescript generates from src/api/openapi.json.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "dalgo-api-"));
const fresh = join(dir, "schema.d.ts");
try {
  const bin = join("node_modules", ".bin", process.platform === "win32" ? "openapi-typescript.cmd" : "openapi-typescript");
  execFileSync(bin, ["src/api/openapi.json", "-o", fresh], { stdio: ["ignore", "ignore", "inherit"] });
  let current = "";
  try {
    current = readFileSync("src/api/schema.d.ts", "utf8");
  } catch {
    current = "";
  }
  if (readFileSync(fresh, "utf8") !== current) {
    console.error("API types are stale: run make api-types");
    process.exit(1);
  }
  console.log("API types are up to date.");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
