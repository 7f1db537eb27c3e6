import type { z } from 'zod';

/**
 * Formats zod issues as one `path: message` line each, the way the API server reports field errors
 * (`spec.endpoints[0].ip: must be ...`), so users see the same shape from our parse errors and from kubectl.
 * `root` prefixes every path (e.g. `spec` when the parsed value was the spec).
 */
export function fieldErrors(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => {
    let path = root;
    for (const seg of issue.path) {
      if (typeof seg === 'number') path += `[${seg}]`;
      else path += path === '' ? String(seg) : `.${String(seg)}`;
    }
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
}
