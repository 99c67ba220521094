import { Badge, Card, Group, SimpleGrid, Stack, Text, ThemeIcon, Title } from "@mantine/core";
import { Link } from "react-router";
import { roleLabel } from "./format";
import { mainNav, settingsNav } from "./nav";
import { useSession } from "./session";

const BLURBS: Record<string, string> = {
  ingest: "Bring data in from KoboToolbox, CommCare, SurveyCTO, Google Sheets and more.",
  transform: "Clean and model it with dbt, in a no-code canvas or your own repo.",
  orchestrate: "Schedule pipelines of syncs and transformations.",
  explore: "Browse warehouse tables and column statistics.",
  charts: "Build charts and KPIs on your models.",
  dashboards: "Share dashboards with your team and funders.",
};

export function HomePage() {
  const { me, org } = useSession();
  const settings = settingsNav.filter((i) => !i.permission || org?.permissions.includes(i.permission));
  return (
    <Stack gap="lg" data-testid="page-home">
      <div>
        <Title order={2}>Welcome{me.user.name ? `, ${me.user.name}` : ""}</Title>
        {org && (
          <Group gap="xs" mt={4}>
            <Text c="dimmed">{org.name}</Text>
            <Badge variant="light" data-testid="current-role">
              {roleLabel(org.role)}
            </Badge>
          </Group>
        )}
      </div>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {mainNav
          .filter((i) => i.area !== "home")
          .map((i) => (
            <Card key={i.area} withBorder component={Link} to={i.to} padding="lg">
              <Group gap="sm" mb="xs">
                <ThemeIcon variant="light">{i.icon}</ThemeIcon>
                <Text fw={600}>{i.label}</Text>
              </Group>
              <Text size="sm" c="dimmed">
                {BLURBS[i.area]}
              </Text>
            </Card>
          ))}
      </SimpleGrid>
      {settings.length > 0 && (
        <Card withBorder>
          <Text fw={600} mb="xs">
            Settings
          </Text>
          <Group>
            {settings.map((i) => (
              <Text key={i.area} component={Link} to={i.to} c="blue.7" size="sm">
                {i.label}
              </Text>
            ))}
          </Group>
        </Card>
      )}
    </Stack>
  );
}
