import { describe, expect, it } from "vitest";
import { chooseOrg } from "../app/session";
import { makeMe } from "../test/utils";
import { jsonDiff } from "./jsonDiff";
import { assignableRoles } from "./roles";

const ROLES = ["member", "analyst", "admin", "super-admin"];

describe("assignableRoles", () => {
  it("offers only roles up to one's own", () => {
    expect(assignableRoles(ROLES, "admin")).toEqual(["member", "analyst", "admin"]);
    expect(assignableRoles(ROLES, "member")).toEqual(["member"]);
    expect(assignableRoles(ROLES, "super-admin")).toEqual(ROLES);
    expect(assignableRoles(ROLES, null)).toEqual([]);
  });
});

describe("jsonDiff", () => {
  it("lists added, removed and changed keys only", () => {
    expect(jsonDiff({ role: "member", name: "A", gone: 1 }, { role: "admin", name: "A", new: true })).toEqual([
      { key: "gone", kind: "removed", before: 1 },
      { key: "new", kind: "added", after: true },
      { key: "role", kind: "changed", before: "member", after: "admin" },
    ]);
    expect(jsonDiff(null, null)).toEqual([]);
  });
});

describe("chooseOrg", () => {
  const me = { ...makeMe([{ slug: "a" }, { slug: "b" }]), last_org: "b" };
  it("keeps a stored org the user belongs to, else the server's last org", () => {
    expect(chooseOrg(me, "a")).toBe("a");
    expect(chooseOrg(me, "gone")).toBe("b");
    expect(chooseOrg({ ...me, last_org: null }, null)).toBe("a");
    expect(chooseOrg({ ...me, orgs: [] }, "a")).toBeNull();
  });
});
