import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { client, storedOrg, storeOrg, unwrap, type Schemas } from "../api/client";

type Me = Schemas["MeOut"];
type Org = Schemas["OrgOut"];

export const meQueryKey = ["me"] as const;

/** The signed-in user with their orgs; an ApiError with status 401 when nobody is signed in. */
export function useMe() {
  return useQuery({
    queryKey: meQueryKey,
    queryFn: () => unwrap(client.GET("/api/me")),
    retry: false,
    staleTime: 30_000,
  });
}

/** Public settings of the deployment (GET /api/config). */
export function useConfig() {
  return useQuery({
    queryKey: ["config"],
    queryFn: () => unwrap(client.GET("/api/config")),
    staleTime: Infinity,
  });
}

/** Picks the org to act in: the stored one if the user still belongs to it, else the server's last org. */
export function chooseOrg(me: Me, stored: string | null): string | null {
  if (stored && me.orgs.some((o) => o.slug === stored)) return stored;
  if (me.last_org && me.orgs.some((o) => o.slug === me.last_org)) return me.last_org;
  return me.orgs[0]?.slug ?? null;
}

interface OrgContextValue {
  me: Me;
  org: Org | null;
  switchOrg: (slug: string) => void;
}

const OrgContext = createContext<OrgContextValue | null>(null);

export function OrgProvider({ me, children }: { me: Me; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [slug, setSlug] = useState<string | null>(() => chooseOrg(me, storedOrg()));

  // `slug` is the user's choice; `chosen` is valid for the orgs they have now (a just-created org
  // appears once /api/me is refetched; a removed one falls back to another).
  const chosen = chooseOrg(me, slug);
  if (chosen !== storedOrg()) storeOrg(chosen);

  const switchOrg = useCallback(
    (next: string) => {
      if (next === slug) return;
      storeOrg(next);
      setSlug(next);
      void queryClient.invalidateQueries();
      // Remember the choice server-side (GET /api/org records it as the user's last org).
      void client.GET("/api/org").catch(() => undefined);
    },
    [slug, queryClient],
  );

  const value = useMemo<OrgContextValue>(
    () => ({ me, org: me.orgs.find((o) => o.slug === chosen) ?? null, switchOrg }),
    [me, chosen, switchOrg],
  );
  return <OrgContext.Provider value={value}>{children}</OrgContext.Provider>;
}

export function useSession(): OrgContextValue {
  const ctx = useContext(OrgContext);
  if (!ctx) throw new Error("useSession must be used inside <OrgProvider>");
  return ctx;
}

/** The current org's slug, for query keys of org-scoped data. */
export function useOrgSlug(): string {
  return useSession().org?.slug ?? "";
}

/** Whether the user's role in the current org grants a permission slug, e.g. useCan("member.invite"). */
export function useCan(permission: string): boolean {
  const { org } = useSession();
  return !!org && org.permissions.includes(permission);
}
