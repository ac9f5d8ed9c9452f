// watcher: publishes the Gateway API objects, Namespaces and the Secrets/ConfigMaps they use to the
// RESOURCES stream, and keeps them in step. GANTRY_SOURCE picks where they are read: a manifests
// directory (file, the default) or a cluster's API server (kubernetes).
import { serveFileSource } from '../../libs/manifests/file-source.ts';
import { serveKubeSource, sourceOf } from '../../libs/kube/serve.ts';
import { startKubeWatcher } from './kube-source.ts';
import { startWatcher } from './watcher.ts';

if (sourceOf() === 'kubernetes') await serveKubeSource('watcher', startKubeWatcher, 'watching the Kubernetes API');
else await serveFileSource('watcher', startWatcher, 'watching manifests');
