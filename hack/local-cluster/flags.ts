// Component command lines are built as name -> value maps so a caller's override replaces a default instead of
// repeating the flag (repeating a list-valued Go flag appends to it rather than replacing it).

/** Flag name (without dashes) to value. */
export type Flags = Readonly<Record<string, string>>;

/** `--name=value` arguments of `defaults` overridden by `overrides`, in a stable order (defaults first). Pure. */
export function renderFlags(defaults: Flags, overrides: Flags = {}): string[] {
  const merged: Record<string, string> = { ...defaults, ...overrides };
  return Object.entries(merged).map(([name, value]) => `--${name}=${value}`);
}
