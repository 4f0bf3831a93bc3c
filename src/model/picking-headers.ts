/**
 * The names the ext_proc picker (src/extproc) and the gateway configuration Proxima serves
 * (src/xds/resources) agree on: the picker writes the chosen endpoint into these headers and into
 * this dynamic-metadata namespace, the gateway's routes and original-destination cluster read them.
 */
export const HEADER_DESTINATION = 'x-proxima-destination';
export const HEADER_FALLBACK = 'x-proxima-destination-fallback';
export const HEADER_NODE = 'x-proxima-node';
export const LB_METADATA_NAMESPACE = 'envoy.lb';
