/**
 * Meta's browser cookies as the Conversions API takes them in user_data.fbc and user_data.fbp:
 * fb.<subdomainIndex>.<creationTime in ms>.<fbclid | random number>, with the optional fifth segment Meta's own
 * parameter builders append (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc).
 * The click id is base64url text, kept byte for byte: Meta says not to change it in any way.
 */
const FBC_RE = /^fb\.\d\.\d{13}\.[\w-]{1,500}(\.[\w-]{1,100})?$/;
const FBP_RE = /^fb\.\d\.\d{13}\.\d{1,30}(\.[\w-]{1,100})?$/;

export const META_COOKIE_MAX = 640;
export const isFbc = (v: unknown): v is string => typeof v === 'string' && FBC_RE.test(v);
export const isFbp = (v: unknown): v is string => typeof v === 'string' && FBP_RE.test(v);
