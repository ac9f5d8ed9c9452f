// endpoint-discovery (file mode): publishes the endpoints of every Service in a manifests
// directory (from its EndpointSlices) to the ENDPOINTS stream, and keeps them in step.
import { serveFileSource } from '../../libs/manifests/file-source.ts';
import { startEndpointDiscovery } from './discovery.ts';

await serveFileSource('endpoint-discovery', startEndpointDiscovery, 'discovering endpoints from manifests');
