import { Center, Loader } from "@mantine/core";
import { Navigate, useLocation } from "react-router";
import { isApiError } from "../api/errors";
import { ApiErrorAlert } from "./ApiErrorAlert";
import { OrgProvider, useMe } from "./session";
import { Shell } from "./Shell";

/** The signed-in part of the app: loads /api/me, sends anonymous visitors to /login?next=... */
export function RequireAuth() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader />
      </Center>
    );
  }
  if (me.isError) {
    if (isApiError(me.error) && me.error.status === 401) {
      const next = location.pathname + location.search;
      return <Navigate to={next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`} replace />;
    }
    return (
      <Center h="100vh" p="xl">
        <ApiErrorAlert error={me.error} title="Dalgo could not load your account" />
      </Center>
    );
  }
  return (
    <OrgProvider me={me.data}>
      <Shell />
    </OrgProvider>
  );
}
