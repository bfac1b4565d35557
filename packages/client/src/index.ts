// @auth-engine/client: the typed client of Auth Engine for browsers, React Native and Node.
export { createAuthClient, type AuthClient } from './client.js';
export {
  AUTH_ERRORS,
  AuthError,
  AuthNetworkError,
  isAuthErrorCode,
  type AuthErrorCode,
  type LoginRequiredCode,
  type NetworkErrorReason,
} from './errors.js';
export { memoryStorage, webStorage, type AuthStorage, type WebStorageLike } from './storage.js';
export type { FetchLike } from './transport.js';
export type * from './types.js';
