/**
 * The protocol's limits the forms check before asking the server (which checks them again). Copied from
 * `@ciphertalk/shared/protocol` rather than imported: the UI's first paint should not carry zod.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const MAX_GROUP_NAME_LENGTH = 100;
