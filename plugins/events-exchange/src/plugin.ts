import { definePlugin, PluginType } from '@ctrd/plugin';
import { decodeEvent } from './decode-event.js';
import { createExchange, type EventExchange } from './exchange.js';

/** ExchangeConfig is the `[plugins."io.containerd.event.v1.exchange"]` section. */
export interface ExchangeConfig {
  /** how many of the latest envelopes are kept for replay (`after_sequence`). */
  ring_size: number;
}

/**
 * exchangePlugin is `io.containerd.event.v1.exchange`: the daemon's event hub. Filters reach
 * decoded event fields by their protobuf names; the exchange closes at shutdown.
 */
export const exchangePlugin = definePlugin<EventExchange, ExchangeConfig>({
  type: PluginType.Event,
  id: 'exchange',
  config: {
    schema: {
      ring_size: { type: 'integer', doc: 'number of recent events kept for subscribers resuming after a sequence number', min: 0 },
    },
    defaults: { ring_size: 4096 },
  },
  init(ic) {
    const exchange = createExchange({ ringSize: ic.config.ring_size, decodeEvent });
    ic.onClose(() => exchange.close());
    return exchange;
  },
});

/** eventsExchangePlugins lists this package's plugin registrations, for the daemon's builtins. */
export const eventsExchangePlugins = [exchangePlugin];
