// One call from a CloudTarget to the two ports publishing uses (object store and image
// registry) over real SDK clients. What the engine and the CLI hold while publishing.
import { createCloudClients, type ClientOptions, type CloudClients } from './clients.js';
import { sdkImageRegistry, type ImageRegistryPort } from './image-registry.js';
import { sdkObjectStore, type ObjectStorePort } from './object-store.js';
import { endpointLabel, type CloudTarget } from './target.js';

export interface CloudConnection {
  readonly target: CloudTarget;
  readonly clients: CloudClients;
  readonly store: ObjectStorePort;
  readonly registry: ImageRegistryPort;
  /** Closes the SDK clients' sockets; call when publishing is over. */
  readonly destroy: () => void;
}

/** SDK clients for `target` wrapped in the ports; no request is made here. */
export function connectCloud(target: CloudTarget, options: ClientOptions = {}): CloudConnection {
  const clients = createCloudClients(target, options);
  return {
    target,
    clients,
    store: sdkObjectStore(clients.s3, endpointLabel(target, 's3')),
    registry: sdkImageRegistry(clients.ec2, endpointLabel(target, 'ec2')),
    destroy: clients.destroy,
  };
}
