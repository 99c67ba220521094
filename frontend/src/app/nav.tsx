import {
  IconChartBar,
  IconDatabase,
  IconDatabaseImport,
  IconHome,
  IconKey,
  IconLayoutDashboard,
  IconListDetails,
  IconRoute,
  IconSearch,
  IconServer,
  IconTransform,
  IconUsers,
} from "@tabler/icons-react";
import type { ReactNode } from "react";

export interface NavItem {
  area: string; // data-testid = nav-<area>
  label: string;
  to: string;
  icon: ReactNode;
  permission?: string;
}

export const mainNav: NavItem[] = [
  { area: "home", label: "Home", to: "/", icon: <IconHome size={18} /> },
  { area: "ingest", label: "Ingest", to: "/ingest", icon: <IconDatabaseImport size={18} />, permission: "source.view" },
  { area: "transform", label: "Transform", to: "/transform", icon: <IconTransform size={18} /> },
  { area: "orchestrate", label: "Orchestrate", to: "/orchestrate", icon: <IconRoute size={18} /> },
  { area: "explore", label: "Explore", to: "/explore", icon: <IconSearch size={18} />, permission: "explore.view" },
  { area: "charts", label: "Charts", to: "/charts", icon: <IconChartBar size={18} /> },
  { area: "dashboards", label: "Dashboards", to: "/dashboards", icon: <IconLayoutDashboard size={18} /> },
];

export const settingsNav: NavItem[] = [
  { area: "settings-users", label: "Users", to: "/settings/users", icon: <IconUsers size={18} />, permission: "member.view" },
  { area: "settings-tokens", label: "API tokens", to: "/settings/tokens", icon: <IconKey size={18} />, permission: "token.manage" },
  { area: "settings-audit", label: "Audit log", to: "/settings/audit", icon: <IconListDetails size={18} />, permission: "audit.view" },
  { area: "settings-warehouse", label: "Warehouse", to: "/settings/warehouse", icon: <IconDatabase size={18} />, permission: "warehouse.view" },
  { area: "settings-system", label: "System status", to: "/settings/system", icon: <IconServer size={18} />, permission: "system.view" },
];
