import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { createNativeSnapshotter } from './native-snapshotter.js';

snapshotterSuite('native', async (root) => ({ snapshotter: await createNativeSnapshotter(root) }));
