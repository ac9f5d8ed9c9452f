// endpoint-discovery: publishes the endpoints of every Service (from its EndpointSlices) to the
// ENDPOINTS stream, and keeps them in step. GANTRY_SOURCE picks where they are read: a manifests
// directory (file, the default) or a cluster's API server (kubernetes).
import { serveFileSource } from '../../libs/manifests/file-source.ts';
import { serveKubeSource, sourceOf } from '../../libs/kube/serve.ts';
import { startEndpointDiscovery } from './discovery.ts';
import { startKubeEndpointDiscovery } from './kube-source.ts';

if (sourceOf() === 'kubernetes') await serveKubeSource('endpoint-discovery', startKubeEndpointDiscovery, 'discovering endpoints from the Kubernetes API');
else await serveFileSource('endpoint-discovery', startEndpointDiscovery, 'discovering endpoints from manifests');
