import { Center, Loader } from "@mantine/core";
import { lazy, Suspense, type ReactNode } from "react";
import type { RouteObject } from "react-router";
import { AccountPage } from "../accounts/AccountPage";
import { ForgotPasswordPage } from "../accounts/ForgotPasswordPage";
import { LoginPage } from "../accounts/LoginPage";
import { ResetPasswordPage } from "../accounts/ResetPasswordPage";
import { SignupPage } from "../accounts/SignupPage";
import { VerifyEmailPage } from "../accounts/VerifyEmailPage";
import { IngestPage } from "../ingestion/IngestPage";
import { AcceptInvitationPage } from "../orgs/AcceptInvitationPage";
import { AuditPage } from "../orgs/AuditPage";
import { CreateOrgPage } from "../orgs/CreateOrgPage";
import { TokensPage } from "../orgs/TokensPage";
import { UsersPage } from "../orgs/UsersPage";
import { OrchestratePage } from "../pipelines/OrchestratePage";
import { TransformPage } from "../transform/TransformPage";
import { ChartsPage } from "../visualization/ChartsPage";
import { DashboardsPage } from "../visualization/DashboardsPage";
import { HomePage } from "./HomePage";
import { NotFoundPage } from "./NotFoundPage";
import { RequireAuth } from "./RequireAuth";
import { RequirePermission } from "./RequirePermission";

// ECharts is heavy: load the pages that chart only when they are opened.
const SystemStatusPage = lazy(() => import("../system/SystemStatusPage").then((m) => ({ default: m.SystemStatusPage })));
const ExplorePage = lazy(() => import("../warehouses/ExplorePage").then((m) => ({ default: m.ExplorePage })));
// react-jsonschema-form (with ajv) is heavy too.
const WarehousePage = lazy(() => import("../warehouses/WarehousePage").then((m) => ({ default: m.WarehousePage })));

const NewSourcePage = lazy(() => import("../ingestion/SourceFormPage").then((m) => ({ default: m.NewSourcePage })));
const EditSourcePage = lazy(() => import("../ingestion/SourceFormPage").then((m) => ({ default: m.EditSourcePage })));
const NewConnectionPage = lazy(() => import("../ingestion/ConnectionFormPage").then((m) => ({ default: m.NewConnectionPage })));
const EditConnectionPage = lazy(() => import("../ingestion/ConnectionFormPage").then((m) => ({ default: m.EditConnectionPage })));
// Charts the sync history.
const ConnectionPage = lazy(() => import("../ingestion/ConnectionPage").then((m) => ({ default: m.ConnectionPage })));

function Lazy({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Center p="xl">
          <Loader />
        </Center>
      }
    >
      {children}
    </Suspense>
  );
}

export const routes: RouteObject[] = [
  { path: "/login", element: <LoginPage /> },
  { path: "/signup", element: <SignupPage /> },
  { path: "/forgot-password", element: <ForgotPasswordPage /> },
  { path: "/reset-password", element: <ResetPasswordPage /> },
  { path: "/verify-email", element: <VerifyEmailPage /> },
  { path: "/invite/:token", element: <AcceptInvitationPage /> },
  {
    element: <RequireAuth />,
    children: [
      { path: "/", element: <HomePage /> },
      { path: "/ingest", element: <RequirePermission permission="source.view"><IngestPage /></RequirePermission> },
      { path: "/ingest/sources/new", element: <RequirePermission permission="source.edit"><Lazy><NewSourcePage /></Lazy></RequirePermission> },
      { path: "/ingest/sources/:id", element: <RequirePermission permission="source.view"><Lazy><EditSourcePage /></Lazy></RequirePermission> },
      { path: "/ingest/connections/new", element: <RequirePermission permission="connection.edit"><Lazy><NewConnectionPage /></Lazy></RequirePermission> },
      { path: "/ingest/connections/:id", element: <RequirePermission permission="connection.view"><Lazy><ConnectionPage /></Lazy></RequirePermission> },
      { path: "/ingest/connections/:id/edit", element: <RequirePermission permission="connection.edit"><Lazy><EditConnectionPage /></Lazy></RequirePermission> },
      { path: "/transform", element: <TransformPage /> },
      { path: "/orchestrate", element: <OrchestratePage /> },
      { path: "/explore", element: <RequirePermission permission="explore.view"><Lazy><ExplorePage /></Lazy></RequirePermission> },
      { path: "/charts", element: <ChartsPage /> },
      { path: "/dashboards", element: <DashboardsPage /> },
      { path: "/account", element: <AccountPage /> },
      { path: "/create-org", element: <CreateOrgPage /> },
      { path: "/settings", element: <RequirePermission permission="member.view"><UsersPage /></RequirePermission> },
      { path: "/settings/users", element: <RequirePermission permission="member.view"><UsersPage /></RequirePermission> },
      { path: "/settings/tokens", element: <RequirePermission permission="token.manage"><TokensPage /></RequirePermission> },
      { path: "/settings/audit", element: <RequirePermission permission="audit.view"><AuditPage /></RequirePermission> },
      { path: "/settings/warehouse", element: <RequirePermission permission="warehouse.view"><Lazy><WarehousePage /></Lazy></RequirePermission> },
      { path: "/settings/system", element: <RequirePermission permission="system.view"><Lazy><SystemStatusPage /></Lazy></RequirePermission> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];
