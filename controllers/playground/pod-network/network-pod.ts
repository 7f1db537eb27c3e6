import { z } from 'zod';

// What the pod network reads of a Pod: where it runs, its address, its ports, its images, and whether its containers
// still run.

const portSchema = z.object({ containerPort: z.number(), protocol: z.string().optional() });

export const networkPodSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .object({
      nodeName: z.string().optional(),
      containers: z.array(z.object({ image: z.string().optional(), ports: z.array(portSchema).nullish() })).default([]),
      initContainers: z.array(z.object({ image: z.string().optional() })).nullish(),
    })
    .default({ containers: [] }),
  status: z
    .object({
      phase: z.string().optional(),
      podIPs: z.array(z.object({ ip: z.string() })).nullish(),
    })
    .default({}),
});
export type NetworkPod = z.infer<typeof networkPodSchema>;
