import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ImageConfig } from '../../controllers/playground/pod-simulator/runc-spec.ts';

// Reading an OCI image layout (image-spec: image-layout.md, image-index.md, manifest.md, config.md): which manifest a
// tag names, and the image configuration the runtime needs. Unpacking is umoci's job.

const descriptorSchema = z.object({
  mediaType: z.string().optional(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  annotations: z.record(z.string(), z.string()).optional(),
});
const indexSchema = z.object({ manifests: z.array(descriptorSchema) });
const manifestSchema = z.object({ config: descriptorSchema });
const configSchema = z.object({
  config: z
    .object({
      User: z.string().optional(),
      Env: z.array(z.string()).nullish(),
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      WorkingDir: z.string().optional(),
    })
    .default({}),
});

/** An image in a layout: its manifest digest (the image ID) and configuration. */
export interface LayoutImage {
  readonly digest: string;
  readonly config: ImageConfig;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

async function blob(layout: string, digest: string): Promise<unknown> {
  return JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8')) as unknown;
}

/** The image tagged `ref` in the layout at `layout`; throws naming the tags there when none matches. */
export async function readLayoutImage(layout: string, ref: string): Promise<LayoutImage> {
  const index = indexSchema.parse(JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')));
  const found = index.manifests.find((m) => m.annotations?.[REF_NAME] === ref);
  if (found === undefined)
    throw new Error(
      `no image tagged ${ref} in ${layout} (tags: ${index.manifests.map((m) => m.annotations?.[REF_NAME] ?? '?').join(', ') || 'none'})`,
    );
  const manifest = manifestSchema.parse(await blob(layout, found.digest));
  const c = configSchema.parse(await blob(layout, manifest.config.digest)).config;
  return {
    digest: found.digest,
    config: {
      ...(c.User === undefined || c.User === '' ? {} : { user: c.User }),
      env: c.Env ?? [],
      entrypoint: c.Entrypoint ?? [],
      cmd: c.Cmd ?? [],
      ...(c.WorkingDir === undefined || c.WorkingDir === '' ? {} : { workingDir: c.WorkingDir }),
    },
  };
}

/** The tags in a layout (their `ref.name` annotations). */
export async function layoutTags(layout: string): Promise<string[]> {
  const index = indexSchema.parse(JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')));
  return index.manifests.map((m) => m.annotations?.[REF_NAME]).filter((t) => t !== undefined);
}
