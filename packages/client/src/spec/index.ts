export * from './generate-spec.js';
export * from './seccomp.js';
