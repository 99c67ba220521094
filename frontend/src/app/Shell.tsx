import { AppShell, Burger, Button, Group, Menu, NativeSelect, NavLink, ScrollArea, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconChevronDown, IconLogout, IconUserCog } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useLocation, useNavigate } from "react-router";
import { client, unwrap } from "../api/client";
import { CreateOrgPage } from "../orgs/CreateOrgPage";
import { mainNav, settingsNav, type NavItem } from "./nav";
import { useSession } from "./session";

export function OrgSwitcher() {
  const { me, org, switchOrg } = useSession();
  if (me.orgs.length === 0) return null;
  return (
    <NativeSelect
      aria-label="Organisation"
      data-testid="org-switcher"
      value={org?.slug ?? ""}
      onChange={(e) => switchOrg(e.currentTarget.value)}
      data={me.orgs.map((o) => ({ value: o.slug, label: o.name }))}
      w={220}
    />
  );
}

export function UserMenu() {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const logout = async () => {
    await unwrap(client.POST("/api/auth/logout")).catch(() => undefined);
    queryClient.clear();
    navigate("/login");
  };
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="subtle" rightSection={<IconChevronDown size={14} />} data-testid="user-menu">
          {me.user.name || me.user.email}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{me.user.email}</Menu.Label>
        <Menu.Item component={Link} to="/account" leftSection={<IconUserCog size={16} />}>
          Account &amp; password
        </Menu.Item>
        <Menu.Item color="red" leftSection={<IconLogout size={16} />} onClick={logout} data-testid="logout">
          Log out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

function NavItems({ items, onNavigate }: { items: NavItem[]; onNavigate: () => void }) {
  const { org } = useSession();
  const { pathname } = useLocation();
  return (
    <>
      {items
        .filter((i) => !i.permission || org?.permissions.includes(i.permission))
        .map((i) => (
          <NavLink
            key={i.area}
            component={Link}
            to={i.to}
            label={i.label}
            leftSection={i.icon}
            active={i.to === "/" ? pathname === "/" : pathname.startsWith(i.to)}
            data-testid={`nav-${i.area}`}
            onClick={onNavigate}
          />
        ))}
    </>
  );
}

/** The one layout of the signed-in app: header (org switcher, user menu) and the navbar. */
export function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const { me } = useSession();
  const { pathname } = useLocation();
  const noOrg = me.orgs.length === 0;
  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 240, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={3} c="blue.7">
              <Link to="/" style={{ color: "inherit", textDecoration: "none" }}>
                Dalgo
              </Link>
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <OrgSwitcher />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <AppShell.Section grow component={ScrollArea}>
          {noOrg ? (
            <Text size="sm" c="dimmed" p="sm">
              Create an organisation to get started.
            </Text>
          ) : (
            <>
              <NavItems items={mainNav} onNavigate={close} />
              <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt="md" mb={4} px="sm">
                Settings
              </Text>
              <NavItems items={settingsNav} onNavigate={close} />
            </>
          )}
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>{noOrg && pathname !== "/account" ? <CreateOrgPage /> : <Outlet />}</AppShell.Main>
    </AppShell>
  );
}
