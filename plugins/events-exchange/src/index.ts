/**
 * `@ctrd/events-exchange` is the in-process event exchange (`io.containerd.event.v1.exchange`),
 * implementing the `@ctrd/events` contract: see {@link createExchange} for delivery, replay and
 * back-pressure rules.
 *
 * @packageDocumentation
 */

export { createExchange, type EventExchange, type ExchangeOptions } from './exchange.js';
export { decodeEvent } from './decode-event.js';
export { eventsExchangePlugins, exchangePlugin, type ExchangeConfig } from './plugin.js';
