// watcher (file mode): publishes the Gateway API objects, Namespaces, Secrets and ConfigMaps of a
// manifests directory to the RESOURCES stream, and keeps them in step as the files change.
import { serveFileSource } from '../../libs/manifests/file-source.ts';
import { startWatcher } from './watcher.ts';

await serveFileSource('watcher', startWatcher, 'watching manifests');
