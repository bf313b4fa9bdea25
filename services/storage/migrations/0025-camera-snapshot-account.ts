/**
 * A camera's snapshot account, for firmware whose web user (which the snapshot URI wants) is not
 * its ONVIF user. The password is sealed like the ONVIF one, bound to the camera and the column.
 */
export default /* sql */ `
ALTER TABLE cameras ADD COLUMN snapshot_username TEXT;
ALTER TABLE cameras ADD COLUMN snapshot_password_sealed TEXT;
`;
