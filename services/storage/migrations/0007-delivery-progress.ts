/**
 * Whether a broadcast still has open deliveries is asked on every acknowledgement; with this index
 * the answer costs a lookup, not a scan of the broadcast's deliveries (10,000 on an emergency).
 */
export default /* sql */ `
CREATE INDEX deliveries_broadcast_state ON deliveries (broadcast_id, state);
`;
