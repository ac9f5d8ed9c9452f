// endpoint-discovery: publishes the endpoints of every Service (from its EndpointSlices) to the
// ENDPOINTS stream, and keeps them in step; and discovers an Upstream per Service port. GANTRY_SOURCE
// picks where they are read: a manifests directory (file, the default) or a cluster's API server
// (kubernetes). GANTRY_UPSTREAM_DISCOVERY (default true) is the discovery switch's default.
import { serveFileSource } from '../../libs/manifests/file-source.ts';
import { serveKubeSource, sourceOf } from '../../libs/kube/serve.ts';
import { loadConfig } from '../../libs/service/index.ts';
import { UpstreamDiscoveryConfig } from './config.ts';
import { startEndpointDiscovery } from './discovery.ts';
import { startKubeEndpointDiscovery } from './kube-source.ts';

const upstreamDiscovery = loadConfig('endpoint-discovery', UpstreamDiscoveryConfig).GANTRY_UPSTREAM_DISCOVERY;
if (sourceOf() === 'kubernetes') {
  await serveKubeSource('endpoint-discovery', (opts) => startKubeEndpointDiscovery({ ...opts, upstreamDiscovery }), 'discovering endpoints from the Kubernetes API');
} else {
  await serveFileSource('endpoint-discovery', (opts) => startEndpointDiscovery({ ...opts, upstreamDiscovery }), 'discovering endpoints from manifests');
}
