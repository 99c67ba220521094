import { Anchor, Center, Paper, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";

/** Centered card for the pages of signed-out visitors (login, sign up, passwords, invitations). */
export function AuthLayout({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Stack w="100%" maw={440} gap="md">
        <Text ta="center" fw={800} size="xl" c="blue.7">
          Dalgo
        </Text>
        <Paper withBorder shadow="sm" p="xl" radius="md">
          <Stack gap="md">
            <div>
              <Title order={2}>{title}</Title>
              {subtitle && (
                <Text c="dimmed" size="sm" mt={4}>
                  {subtitle}
                </Text>
              )}
            </div>
            {children}
          </Stack>
        </Paper>
        <Text ta="center" size="xs" c="dimmed">
          Open-source data platform for NGOs ·{" "}
          <Anchor href="https://dalgo.org" size="xs" target="_blank" rel="noreferrer">
            dalgo.org
          </Anchor>
        </Text>
      </Stack>
    </Center>
  );
}

/** A `next` query value that is safe to redirect to (a path in this app), or "/". */
export function safeNext(next: string | null): string {
  if (next && next.startsWith("/") && !next.startsWith("//")) return next;
  return "/";
}
