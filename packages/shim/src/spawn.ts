/**
 * `@ctrd/shim/spawn`: starting children without Node's fork of the whole process, for the daemon
 * as well as the shim ({@link posixSpawn}, {@link spawnPiped}, {@link ChildExits}).
 *
 * @packageDocumentation
 */
export { ChildExits } from './child-exits.js';
export { posixSpawn, posixSpawnAvailable, type SpawnRequest } from './posix-spawn.js';
export { spawnPiped, type PipedChild, type PlainStdio, type SpawnPipedOptions } from './spawn-piped.js';
export { exitStatus, type ExitInfo } from './reaper.js';
