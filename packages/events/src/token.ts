import { PluginType, createToken } from '@ctrd/plugin';
import type { Exchange as ExchangeType, Publisher as PublisherType } from './envelope.js';

/** Exchange is the daemon's event hub: publisher, forwarder and subscriber in one. */
export type Exchange = ExchangeType;
/** Publisher accepts events raised inside the daemon. */
export type Publisher = PublisherType;

/** Exchange is also the token of the `io.containerd.event.v1` plugin type. */
export const Exchange = createToken<Exchange>(PluginType.Event);

/**
 * Publisher is the same plugin type seen only as a publisher, for plugins that raise events but
 * never subscribe.
 */
export const Publisher = createToken<Publisher>(PluginType.Event);
