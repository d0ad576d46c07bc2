/**
 * The redirector sync API version this desktop speaks (GET /api/v1/status answers `apiVersion`).
 * The desktop core (issue: desktop core and sync) builds on this package; until then it holds only this.
 */
export const SUPPORTED_REDIRECTOR_API_VERSION = 1;
