/** The roles a user may grant: those up to their own, in the server's order (lowest first). */
export function assignableRoles(roles: readonly string[], own: string | null | undefined): string[] {
  const rank = own ? roles.indexOf(own) : -1;
  return rank < 0 ? [] : roles.slice(0, rank + 1);
}
