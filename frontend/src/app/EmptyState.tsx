import { Card, List, Stack, Text, ThemeIcon, Title } from "@mantine/core";
import type { ReactNode } from "react";

/** The page of an area that is not built yet: what it is for and what will be there. */
export function EmptyState({
  icon,
  title,
  description,
  features = [],
  testId,
}: {
  icon: ReactNode;
  title: string;
  description: string;
  features?: string[];
  testId?: string;
}) {
  return (
    <Stack gap="lg" maw={760} data-testid={testId}>
      <Title order={2}>{title}</Title>
      <Card withBorder padding="xl" radius="md">
        <Stack align="center" gap="md" ta="center">
          <ThemeIcon size={64} radius="xl" variant="light">
            {icon}
          </ThemeIcon>
          <Text size="lg" fw={500}>
            {description}
          </Text>
          <Text c="dimmed" size="sm">
            This area is coming soon.
          </Text>
        </Stack>
        {features.length > 0 && (
          <List mt="lg" spacing="xs" size="sm">
            {features.map((f) => (
              <List.Item key={f}>{f}</List.Item>
            ))}
          </List>
        )}
      </Card>
    </Stack>
  );
}
