/**
 * `@ctrd/fault` holds ctrd's named fault sites for crash-consistency testing. Code marks a point
 * where a crash is interesting with `fault('<site>')`; it costs one boolean test unless the
 * environment asks for more:
 *
 * - `CTRD_FAULT=<site>:<n>[,<site>:<n>…]` kills the process with SIGKILL on the n-th hit of a site;
 * - `CTRD_FAULT_TRACE=<file>` appends every hit to `<file>`, one site per line.
 *
 * The sites are listed in {@link FAULT_SITES}; the crash test drives a workload through ctrd
 * until each one has been hit and crashed at, then checks the root with `ctrd fsck`.
 *
 * @packageDocumentation
 */
export { fault, faultHits, parseFaultSpec, readFaultTrace, type FaultPlan } from './fault.js';
export { FAULT_SITES, FAULT_SITE_NAMES, type FaultSite } from './sites.js';
