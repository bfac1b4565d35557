// Where the client keeps its session. Sync or async, so one interface fits localStorage,
// React Native's AsyncStorage or a secure keychain wrapper, and a server-side store.

export interface AuthStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** In memory only: the session ends with the process (tests, Node scripts, SSR). */
export function memoryStorage(): AuthStorage {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/** The subset of the Web Storage API the client uses (localStorage, sessionStorage). */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Over `localStorage` or `sessionStorage` (or anything shaped like them). */
export function webStorage(store: WebStorageLike): AuthStorage {
  return {
    get: (key) => store.getItem(key),
    set: (key, value) => store.setItem(key, value),
    remove: (key) => store.removeItem(key),
  };
}
