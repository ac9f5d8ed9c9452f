// Schema of a ListenerSet (gateway.networking.k8s.io/v1 ListenerSet, or the experimental
// gateway.networking.x-k8s.io XListenerSet): listeners, shaped like a Gateway's, offered to one
// parent Gateway.
import { z } from 'zod';
import { GATEWAY_GROUP, GatewayListener, namespacedMetadata } from './objects.ts';

export const ListenerSet = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    parentRef: z.object({
      group: z.string().default(GATEWAY_GROUP),
      kind: z.string().default('Gateway'),
      namespace: z.string().min(1).optional(),
      name: z.string().min(1).max(253),
    }),
    listeners: z.array(GatewayListener).min(1).max(64),
  }),
});
export type ListenerSet = z.infer<typeof ListenerSet>;
